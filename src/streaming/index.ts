export * from './stream-registry';
export * from './stream-response';
export * from './gather-registry';
export * from './gather-response';
