import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** Redis may evict keys, and BullMQ (webhook deliveries) needs `maxmemory-policy noeviction`. */
export class RedisEvictionPolicyError extends ReplygateError {
  constructor(
    readonly current: string | undefined,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_REDIS_EVICTION_POLICY',
      `Redis maxmemory-policy is "${current ?? 'unknown'}" but webhook deliveries (BullMQ) need "noeviction": ` +
        `an evicted job is a callback silently lost. Run "CONFIG SET maxmemory-policy noeviction" ` +
        `(managed Redis: set it in the parameter group), or start replygate with ` +
        `REPLYGATE_WEBHOOK_EVICTION_CHECK=warn (--webhook-eviction-check warn) to only log a warning.`,
      options,
    );
  }
}
