export * from './gateway-server';
export * from './readiness';
export * from './redis-connections';
export * from './ensure-topic';
export * from './redis-run-id';
export * from './liveness';
