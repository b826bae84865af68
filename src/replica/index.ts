export * from './gateway-server';
export * from './listen-error';
