export * from './reply-store';
export * from './reply-notifier';
export * from './redis-reply-store';
export * from './redis-keyspace-notifier';
export * from './redis-notifications-check';
export * from './keyspace-notification-watch';
