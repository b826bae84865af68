export * from './keyspace-notification-watch';
export * from './redis-connections';
export * from './redis-eviction-check';
export * from './redis-keyspace-notifier';
export * from './redis-notifications-check';
export * from './redis-reply-store';
export * from './redis-run-id';
