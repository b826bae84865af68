export * from './request-publisher';
export * from './request-message';
export * from './kafka-request-publisher';
export * from './kafka-client';
export * from './produce-batcher';
export * from './supervised-consumer';
export * from './kafka-reachable';
export * from './kafka-log-creator';
