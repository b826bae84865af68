export * from './rate-limit-stage';
export * from './route-limiters';
