import { authFromConfig, createAuthStage, type AuthSettings } from '../auth';
import type { RouteDefinition } from '../config/routes-file';
import { createRateLimitStage, type LimiterFactory } from '../ratelimit';
import { createCorsStage } from './cors-stage';
import type { RequestStage } from './request-stage';

/** What {@link createSecurityStages} needs. */
export interface SecurityStagesOptions {
  settings: AuthSettings;
  routes: readonly RouteDefinition[];
  /** Limiter per rate-limited route (Redis in production). */
  createLimiter: LimiterFactory;
}

/**
 * The gateway's stages, in order: `corsStage` (so refusals stay readable cross-origin),
 * `authStage` (who is calling; 401/403), `rateLimitStage` (per principal or client IP; 429).
 * Throws `ConfigError` at start-up when a route needs an authentication setting that is missing.
 *
 * @example
 * const stages = createSecurityStages({ settings: config, routes, createLimiter: redisLimiters(redis, prefix) });
 */
export function createSecurityStages(options: SecurityStagesOptions): RequestStage[] {
  return [
    createCorsStage(),
    createAuthStage(authFromConfig(options.settings, options.routes)),
    createRateLimitStage({ createLimiter: options.createLimiter }),
  ];
}
