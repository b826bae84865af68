export * from './ws-frame';
export * from './ws-request';
export * from './ws-gateway-deps';
export * from './ws-session';
export * from './ws-gateway';
