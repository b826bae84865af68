/**
 * Every stable error code replygate can emit, with the HTTP status it maps to.
 * Codes are part of the public API: clients and dashboards match on them, so never rename one.
 */
export const ERROR_CODES = {
  RG_ROUTE_NOT_FOUND: 404,
  RG_METHOD_NOT_ALLOWED: 405,
  RG_REPLY_NOT_FOUND: 404,
  RG_UNAUTHENTICATED: 401,
  RG_FORBIDDEN: 403,
  RG_RATE_LIMITED: 429,
  RG_INVALID_JSON: 400,
  RG_BAD_REQUEST: 400,
  RG_CALLBACK_REFUSED: 400,
  RG_BODY_TOO_LARGE: 413,
  RG_UNSUPPORTED_MEDIA_TYPE: 415,
  RG_IDEMPOTENCY_KEY_REUSED: 422,
  RG_ROUTES_INVALID: 422,
  RG_REPLY_MALFORMED: 502,
  RG_PUBLISH_FAILED: 503,
  RG_UNAVAILABLE: 503,
  RG_OVERLOADED: 503,
  RG_REPLY_TIMEOUT: 504,
  RG_CONFIG_INVALID: 500,
  RG_REDIS_NOTIFICATIONS_DISABLED: 500,
  RG_REDIS_EVICTION_POLICY: 500,
  RG_INTERNAL: 500,
} as const;

/** A stable, grep-able error code. */
export type ErrorCode = keyof typeof ERROR_CODES;
