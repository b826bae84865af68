export * from './error-codes';
export * from './replygate-error';
export * from './http-errors';
export * from './request-errors';
export * from './auth-errors';
export * from './admin-errors';
export * from './reply-errors';
export * from './startup-errors';
