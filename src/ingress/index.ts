export * from './http';
export * from './ws';
export * from './admin';
export * from './pipeline';
