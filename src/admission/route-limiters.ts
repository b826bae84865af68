import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitSpec } from '../config/route-security';
import type { RouteDefinition } from '../config/routes-file';
import { ReplyKeys } from '../protocol/reply-keys';

/** Builds the limiter that counts one route's requests. */
export type LimiterFactory = (route: RouteDefinition, limit: RateLimitSpec) => RateLimiterAbstract;

/**
 * Limiters kept in Redis, so one budget holds across every replica. Counters live at
 * `<prefix>ratelimit:<route>:<caller>` and expire with their window (the library sets the TTL in
 * the same Lua script that increments, so no counter is ever left without one).
 *
 * @example
 * const createLimiter = redisLimiters(redis, config.keyPrefix);
 */
export function redisLimiters(redis: Redis | Cluster, keyPrefix: string): LimiterFactory {
  return (route, limit) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: new ReplyKeys(keyPrefix).rateLimit(route.name),
      points: limit.points,
      duration: limit.durationSec,
      // Fail at once while Redis is away instead of queueing: the request is answered 503.
      rejectIfRedisNotReady: true,
    });
}
