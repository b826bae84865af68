export * from './content-negotiation';
export * from './forwarded-headers';
export * from './partition-key';
export * from './route-matcher';
export * from './route-table';
export * from './build-outgoing-request';
export * from './accept-body';
