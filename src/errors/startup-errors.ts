import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** Configuration (env, flags or the routes file) failed validation at start-up. */
export class ConfigError extends ReplygateError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_CONFIG_INVALID', message, options);
  }
}

/** Redis does not publish the keyspace notifications the gateway wakes on. */
export class RedisNotificationsDisabledError extends ReplygateError {
  constructor(
    readonly current: string | undefined,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_REDIS_NOTIFICATIONS_DISABLED',
      `Redis notify-keyspace-events is "${current ?? 'unknown'}" but must contain K and $ (or K and A). ` +
        `Run "CONFIG SET notify-keyspace-events K$" (managed Redis: set it in the parameter group), ` +
        `or start replygate with --redis-configure / REPLYGATE_REDIS_CONFIGURE=true to set it.`,
      options,
    );
  }
}
