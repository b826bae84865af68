export * from './api-key-store';
export * from './api-key-verifier';
export * from './auth-from-config';
export * from './auth-stage';
export * from './credentials';
export * from './file-api-key-store';
export * from './jwt-verifier';
export * from './principal';
