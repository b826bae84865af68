export * from './gateway-config';
export * from './load-config';
export * from './routes-file';
export * from './reserved-paths';
