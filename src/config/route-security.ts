import { z } from 'zod';
import type { GatewayConfig } from './gateway-config';

/** How callers of a route authenticate. */
export type AuthMethod = 'none' | 'apiKey' | 'jwt';

/** OAuth 2.0 scope-token characters (RFC 6749 §3.3). */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
/** A serialized origin (`scheme://host[:port]`), or `*` for any origin. */
const ORIGIN = /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/;

/** A fixed-window request budget: `points` requests per `durationSec`. */
export const rateLimitSchema = z
  .object({
    /** Requests allowed per window. */
    points: z.number().int().min(1).max(1_000_000_000),
    /** Window length in seconds (the Redis counter expires with it). */
    durationSec: z.number().int().min(1).max(86_400),
  })
  .strict();

/** A route's rate limit. */
export type RateLimitSpec = z.output<typeof rateLimitSchema>;

/** Cross-origin access to a route. */
export const corsSchema = z
  .object({
    /** Origins allowed to call the route from a browser, exactly as the browser sends them, or `*`. */
    origins: z.array(z.string().regex(ORIGIN, 'use scheme://host[:port] or *')).min(1),
    /** Allow credentialed requests (cookies, `Authorization`); not with `*`. @defaultValue false */
    credentials: z.boolean().default(false),
    /** How long a browser may cache the preflight answer. @defaultValue 600 */
    maxAgeSec: z.number().int().min(0).max(86_400).default(600),
  })
  .strict()
  .refine((c) => !(c.credentials && c.origins.includes('*')), {
    message: 'credentials: true needs explicit origins, not *',
    path: ['credentials'],
  });

/** A route's CORS policy. */
export type CorsSpec = z.output<typeof corsSchema>;

/** The security fields of a route in the routes file (spread into the route schema). */
export const routeSecurityFields = {
  /** How callers authenticate: `none`, `apiKey` or `jwt`. @defaultValue REPLYGATE_AUTH_DEFAULT */
  auth: z.enum(['none', 'apiKey', 'jwt']).optional(),
  /** Scopes the caller must hold, all of them (403 otherwise). Needs `auth` other than `none`. */
  scopes: z.array(z.string().regex(SCOPE, 'not a valid OAuth scope token')).optional(),
  /** Per-caller rate limit; `false` turns the REPLYGATE_RATE_LIMIT_* default off for this route. */
  rateLimit: z.union([rateLimitSchema, z.literal(false)]).optional(),
  /** Cross-origin policy; without it, preflights are refused and no CORS headers are sent. */
  cors: corsSchema.optional(),
};

/** The gateway settings a route's security falls back to. Every one is optional (tests, tools). */
export type RouteSecurityDefaults = Partial<
  Pick<GatewayConfig, 'authDefault' | 'rateLimitPoints' | 'rateLimitDurationSec'>
>;

/** A route's security, every default resolved. */
export interface ResolvedRouteSecurity {
  auth: AuthMethod;
  scopes: readonly string[];
  rateLimit: RateLimitSpec | undefined;
}

/**
 * Resolve a route's `auth`, `scopes` and `rateLimit` against the gateway defaults. Returns an
 * error message for an impossible combination (scopes on an unauthenticated route).
 */
export function resolveRouteSecurity(
  r: { auth?: AuthMethod | undefined; scopes?: string[] | undefined; rateLimit?: RateLimitSpec | false | undefined },
  defaults: RouteSecurityDefaults,
): ResolvedRouteSecurity | string {
  const auth = r.auth ?? defaults.authDefault ?? 'none';
  const scopes = r.scopes ?? [];
  if (auth === 'none' && scopes.length > 0) return 'scopes: need auth: apiKey or jwt (REPLYGATE_AUTH_DEFAULT)';
  let rateLimit: RateLimitSpec | undefined;
  if (r.rateLimit !== undefined) {
    rateLimit = r.rateLimit === false ? undefined : r.rateLimit;
  } else if ((defaults.rateLimitPoints ?? 0) > 0) {
    rateLimit = { points: defaults.rateLimitPoints ?? 0, durationSec: defaults.rateLimitDurationSec ?? 60 };
  }
  return { auth, scopes, rateLimit };
}
