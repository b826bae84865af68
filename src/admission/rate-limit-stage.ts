import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitSpec } from '../config/route-security';
import type { RouteDefinition } from '../config/routes-file';
import { RateLimitedError } from '../errors/auth-errors';
import { UnavailableError } from '../errors/reply-errors';
import type { AdmissionContext, RequestStage } from './admission-context';
import type { LimiterFactory } from './route-limiters';

/** Settings of a {@link createRateLimitStage rate-limit stage}. */
export interface RateLimitStageOptions {
  /** Builds each route's limiter (Redis in production: {@link redisLimiters}). */
  createLimiter: LimiterFactory;
}

/**
 * The rate-limit stage: one fixed-window budget per route and caller, the caller being the
 * authenticated principal or, for anonymous routes, the client IP (as REPLYGATE_TRUST_PROXY
 * resolves it). Runs after authentication. Limited routes answer with `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` and `RateLimit-Policy` (IETF httpapi draft); over the
 * budget, 429 `RG_RATE_LIMITED` with `Retry-After`. If the counter store fails, 503.
 *
 * Limiters are made on a route's first request and kept by route name and limit, so routes
 * reloaded at run time are limited too.
 *
 * @example
 * const stage = createRateLimitStage({ createLimiter: redisLimiters(redis, 'rg:') });
 */
export function createRateLimitStage(options: RateLimitStageOptions): RequestStage {
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (route: RouteDefinition, limit: RateLimitSpec): RateLimiterAbstract => {
    const id = `${route.name}\n${limit.points}\n${limit.durationSec}`;
    let limiter = limiters.get(id);
    if (limiter === undefined) {
      limiter = options.createLimiter(route, limit);
      limiters.set(id, limiter);
    }
    return limiter;
  };
  return async function rateLimitStage(ctx: AdmissionContext): Promise<void> {
    const limit = ctx.route.rateLimit;
    if (limit === undefined) return;
    const limiter = limiterFor(ctx.route, limit);
    const caller = ctx.identity !== undefined ? `p:${ctx.identity.principal}` : `ip:${ctx.clientIp ?? 'unknown'}`;
    let outcome: RateLimiterRes;
    try {
      outcome = await limiter.consume(caller, 1);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        throw new UnavailableError('the rate-limit store (Redis) did not answer', { cause: err });
      }
      const retryAfterSec = setHeaders(ctx, limit, err);
      ctx.setHeader('retry-after', String(retryAfterSec));
      throw new RateLimitedError(limit.points, limit.durationSec, retryAfterSec);
    }
    setHeaders(ctx, limit, outcome);
  };
}

/** Set the RateLimit-* headers; returns the seconds until the window resets (at least 1). */
function setHeaders(res: Pick<AdmissionContext, 'setHeader'>, limit: RateLimitSpec, outcome: RateLimiterRes): number {
  const resetSec = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
  res.setHeader('ratelimit-limit', String(limit.points));
  res.setHeader('ratelimit-remaining', String(Math.max(0, outcome.remainingPoints)));
  res.setHeader('ratelimit-reset', String(resetSec));
  res.setHeader('ratelimit-policy', `${limit.points};w=${limit.durationSec}`);
  return resetSec;
}
