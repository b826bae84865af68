export * from './admission-context';
export * from './admission-stages';
export * from './admit';
export * from './cors-stage';
export * from './rate-limit-stage';
export * from './route-limiters';
export * from './auth';
