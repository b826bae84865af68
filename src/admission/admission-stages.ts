import { authFromConfig, type AuthSettings } from './auth/auth-from-config';
import { createAuthStage } from './auth/auth-stage';
import type { RouteDefinition } from '../config/routes-file';
import { createRateLimitStage } from './rate-limit-stage';
import { type LimiterFactory } from './route-limiters';
import { createCorsStage } from './cors-stage';
import type { RequestStage } from './admission-context';

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
/**
 * The stages a WebSocket frame goes through: authentication (with the credential of the socket's
 * upgrade request) and rate limits. No CORS: a socket is not a cross-origin fetch.
 */
export function createFrameStages(options: SecurityStagesOptions): RequestStage[] {
  return [
    createAuthStage(authFromConfig(options.settings, options.routes)),
    createRateLimitStage({ createLimiter: options.createLimiter }),
  ];
}

export function createSecurityStages(
  options: SecurityStagesOptions,
  frameStages: readonly RequestStage[] = createFrameStages(options),
): RequestStage[] {
  // Given the frame stages already built, HTTP and WebSocket share one set of verifiers and limiters.
  return [createCorsStage(), ...frameStages];
}
