export * from './stream-registry';
export * from './stream-response';
