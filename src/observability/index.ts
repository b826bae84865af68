export * from './gateway-observability';
export * from './gateway-tracer';
export * from './relay-lag-monitor';
export * from './request-observer';
export * from './trace-context';
export * from './tracing-publisher';
export * from './unread-replies';
export * from './otel-tracer';
