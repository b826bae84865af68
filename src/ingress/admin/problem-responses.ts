import type { ErrorCode } from '../../errors/error-codes';

/** One error status of an operation: the codes it can carry and when. */
export interface ProblemStatus {
  status: string;
  /** The stable codes (`error` field) this status carries here, listed as `x-replygate-error-codes`. */
  codes: readonly ErrorCode[];
  description: string;
  /** Whether the answer carries `Retry-After`. */
  retryAfter?: boolean;
  /** Extra response headers, by name (values are OpenAPI header objects). */
  headers?: Record<string, unknown>;
}

const PROBLEM_TYPE = 'application/problem+json';
const CORRELATION_ID = { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };
const RETRY_AFTER = { 'Retry-After': { $ref: '#/components/headers/Retry-After' } };

/**
 * The statuses the gateway itself answers on any route (the README's status table), whatever the
 * route's settings. Statuses that depend on them (auth, body, idempotency) are added by the caller.
 */
export const ROUTE_PROBLEMS: readonly ProblemStatus[] = [
  {
    status: '400',
    codes: ['RG_BAD_REQUEST', 'RG_INVALID_JSON', 'RG_CALLBACK_REFUSED'],
    description:
      "Malformed request, body not JSON though its type says so, partition key missing, bad percent-encoding, malformed Idempotency-Key; RG_CALLBACK_REFUSED: a Callback-Url outside the route's callbacks.allow, on a route without callbacks, or without Prefer: respond-async",
  },
  { status: '404', codes: ['RG_ROUTE_NOT_FOUND'], description: 'No route for the path (or the service answered 404)' },
  {
    status: '408',
    codes: ['RG_REQUEST_TIMEOUT'],
    description:
      'The client did not send its headers or body within REPLYGATE_HEADERS_TIMEOUT_MS / REPLYGATE_REQUEST_TIMEOUT_MS (details.phase: headers or body)',
  },
  {
    status: '417',
    codes: ['RG_EXPECTATION_FAILED'],
    description: 'An Expect header other than 100-continue',
  },
  {
    status: '429',
    codes: ['RG_RATE_LIMITED'],
    description: "The caller's rate limit on the route is used up (when rate limits are set)",
    retryAfter: true,
  },
  {
    status: '431',
    codes: ['RG_BAD_REQUEST'],
    description: "Request headers over node's limit (16 KiB)",
  },
  {
    status: '502',
    codes: ['RG_REPLY_MALFORMED'],
    description:
      'The service replied with an unusable status or headers, or more headers than REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES',
  },
  {
    status: '503',
    codes: ['RG_PUBLISH_FAILED', 'RG_UNAVAILABLE', 'RG_OVERLOADED'],
    description:
      'Kafka did not take the request by its deadline; replica starting, draining or cut off from Redis or Kafka; too many parked requests (REPLYGATE_MAX_PENDING): retry later',
    retryAfter: true,
  },
  { status: '504', codes: ['RG_REPLY_TIMEOUT'], description: "No reply within the route's timeout" },
];

/** An OpenAPI response object for `problem`: problem+json body, its codes as `x-replygate-error-codes`. */
export function problemResponse(problem: ProblemStatus): Record<string, unknown> {
  return {
    description: `${problem.codes.join(' / ')}: ${problem.description}`,
    'x-replygate-error-codes': [...problem.codes],
    headers: { ...CORRELATION_ID, ...(problem.retryAfter === true ? RETRY_AFTER : {}), ...problem.headers },
    content: { [PROBLEM_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/** A response map for `problems`, keyed by status. */
export function problemResponses(problems: readonly ProblemStatus[]): Record<string, unknown> {
  return Object.fromEntries(problems.map((p) => [p.status, problemResponse(p)]));
}
