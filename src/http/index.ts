export * from './create-app';
export * from './gateway-handler';
export * from './route-matcher';
export * from './problem-response';
export * from './content-negotiation';
export * from './read-body';
export * from './request-stage';
export * from './client-error';
