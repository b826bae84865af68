export * from './pending-registry';
export * from './partition-key';
export * from './request-broker';
export * from './stored-reply-decoder';
