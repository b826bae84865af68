export * from './headers';
export * from './correlation-id';
export * from './reply-envelope';
export * from './reserved-headers';
export * from './reply-body';
export * from './reply-headers';
