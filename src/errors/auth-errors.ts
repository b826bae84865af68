import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/**
 * Why a caller could not be authenticated: no credential, a request that carries credentials
 * wrongly (`malformed`: not Bearer, two of them), or a credential that is not valid or expired. Only the kind reaches the client: the detail of a
 * failed signature or lookup would help an attacker more than a legitimate caller.
 */
export type UnauthenticatedReason = 'missing' | 'malformed' | 'invalid' | 'expired';

/** The request carries no usable credential for a route that needs one (401). */
export class UnauthenticatedError extends ReplygateError {
  constructor(
    readonly reason: UnauthenticatedReason,
    message: string,
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_UNAUTHENTICATED', message, { ...options, details: { reason } });
  }
}

/** The caller is authenticated but may not use this route: a missing scope or a key bound to other routes (403). */
export class ForbiddenError extends ReplygateError {
  constructor(
    message: string,
    readonly missingScopes: readonly string[] = [],
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_FORBIDDEN', message, {
      ...options,
      ...(missingScopes.length > 0 ? { details: { missingScopes } } : {}),
    });
  }
}

/** The caller used up the route's rate limit; retry after `retryAfterSec` (429). */
export class RateLimitedError extends ReplygateError {
  constructor(
    readonly limit: number,
    readonly durationSec: number,
    readonly retryAfterSec: number,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_RATE_LIMITED',
      `Rate limit of ${limit} requests per ${durationSec} s reached; retry in ${retryAfterSec} s (route rateLimit / REPLYGATE_RATE_LIMIT_POINTS)`,
      { retriable: true, ...options, details: { limit, durationSec, retryAfterSec } },
    );
  }
}
