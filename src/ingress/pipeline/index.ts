export * from './answer-mode';
export * from './idempotent-claim';
export * from './inbound';
export * from './run-request';
