import type { RedisClient } from './redis-connections';
import type { Logger } from '../observability/logger';
import { RedisEvictionPolicyError } from '../errors/redis-eviction-policy-error';

/** How strictly the start-up check treats an evicting Redis: refuse to start, or log a warning. */
export type EvictionCheckMode = 'require' | 'warn';

/**
 * Verify that Redis will not evict BullMQ's keys (`maxmemory-policy noeviction`). Throws
 * {@link RedisEvictionPolicyError}, naming the setting, unless `mode` is `warn`.
 */
export async function ensureNoEviction(redis: RedisClient, mode: EvictionCheckMode, log: Logger): Promise<void> {
  let current: string | undefined;
  let cause: unknown;
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    current = reply[1];
  } catch (err) {
    cause = err;
  }
  if (current === 'noeviction') return;
  const error = new RedisEvictionPolicyError(current, { cause });
  if (mode === 'require') throw error;
  log.warn({ maxmemoryPolicy: current ?? 'unknown' }, error.message);
}
