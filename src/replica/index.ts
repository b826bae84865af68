export * from './all-role';
export * from './drain';
export * from './gateway-server';
export * from './http-endpoints';
export * from './http-role';
export * from './listen-error';
export * from './relay-role';
export * from './replica-context';
