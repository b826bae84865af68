export * from './ws-frame';
export * from './ws-gateway-deps';
export * from './ws-gateway';
export * from './ws-request';
export * from './ws-session';
export * from './ws-answer';
