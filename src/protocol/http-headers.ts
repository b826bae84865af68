/**
 * Client-facing HTTP header names the gateway reads or writes, lower-case (Node's header maps are
 * lower-case). Declared once: handlers, CORS, the replies router and webhooks read this table.
 * Kafka header names live in `kafka-headers.ts`, trace headers in `trace-context.ts`.
 */
export const HTTP_HEADERS = {
  /** The id the gateway gave the request; on every response. */
  correlationId: 'x-correlation-id',
  /** A client's idempotency key. */
  idempotencyKey: 'idempotency-key',
  /** `true` on an answer replayed for a repeated idempotency key. */
  idempotentReplayed: 'idempotent-replayed',
  /** Where to POST the reply of an async request. */
  callbackUrl: 'callback-url',
  /** The callback's delivery state (`pending`, `delivered`, `failed`). */
  callbackState: 'replygate-callback-state',
  /** RFC 7240 preferences: `respond-async`, `wait=N`. */
  prefer: 'prefer',
  /** Which preference the gateway honoured. */
  preferenceApplied: 'preference-applied',
  /** When to come back (seconds). */
  retryAfter: 'retry-after',
  /** An API key credential. */
  apiKey: 'x-api-key',
  /** The HMAC signature of a callback body. */
  signature: 'replygate-signature',
} as const;
