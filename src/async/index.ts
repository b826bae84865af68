export * from './prefer-header';
export * from './async-reply-registry';
export * from './accepted-response';
export * from './replies-router';
export * from './watcher-limiter';
