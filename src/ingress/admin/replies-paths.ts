import { problemResponses, type ProblemStatus } from './problem-responses';

const CORRELATION_ID = { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };

/** The retrieval token a `202` handed out, as the replies endpoints take it (header or query). */
const TOKEN_PARAMETERS: readonly Record<string, unknown>[] = [
  {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The correlation id from the 202',
    schema: { type: 'string' },
  },
  {
    name: 'Replygate-Reply-Token',
    in: 'header',
    required: false,
    description: 'The retrieval token from the 202 (or the `token` query parameter); without the right one: 404',
    schema: { type: 'string' },
  },
  {
    name: 'token',
    in: 'query',
    required: false,
    description: 'The retrieval token, for clients that cannot set headers (prefer the header: URLs reach logs)',
    schema: { type: 'string' },
  },
];

/** What refusing a watcher, a missing reply and an unusable one look like on both endpoints. */
const WATCHER_PROBLEMS: readonly ProblemStatus[] = [
  {
    status: '404',
    codes: ['RG_REPLY_NOT_FOUND'],
    description:
      'No fetchable reply with that id and retrieval token: unknown, expired, missing or wrong token (one answer), or a malformed id',
  },
  {
    status: '408',
    codes: ['RG_REQUEST_TIMEOUT'],
    description: 'The client did not send its headers within REPLYGATE_HEADERS_TIMEOUT_MS',
  },
  {
    status: '429',
    codes: ['RG_RATE_LIMITED'],
    description: 'Too many long-polls and event streams on this reply (REPLYGATE_MAX_WATCHERS_PER_REPLY)',
    retryAfter: true,
  },
  {
    status: '503',
    codes: ['RG_OVERLOADED', 'RG_UNAVAILABLE'],
    description:
      'Too many long-polls and event streams on this replica (REPLYGATE_MAX_WATCHERS), or the replica cannot read Redis',
    retryAfter: true,
  },
];

/**
 * `GET /v1/replies/{id}` and `GET /v1/replies/{id}/events`: where a `202` answer is fetched,
 * long-polled (`Prefer: wait=N`) or followed as Server-Sent Events.
 */
export function repliesPaths(): Record<string, Record<string, unknown>> {
  return {
    '/v1/replies/{id}': {
      get: {
        operationId: 'replygateFetchReply',
        summary: 'Fetch a reply answered 202, or long-poll for it (Prefer: wait=N, at most REPLYGATE_MAX_WAIT_MS)',
        parameters: [
          ...TOKEN_PARAMETERS,
          {
            name: 'Prefer',
            in: 'header',
            required: false,
            description: '`wait=N`: hold the request up to N seconds for the reply',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: "The service's reply as stored: its status, headers and body (Replygate-Stored-Reply: true)",
            headers: {
              ...CORRELATION_ID,
              'Replygate-Stored-Reply': { schema: { type: 'string', const: 'true' } },
              'Replygate-Callback-State': {
                description: 'Delivery state of the request’s webhook, when it has one',
                schema: { type: 'string' },
              },
            },
            content: { '*/*': { schema: {} } },
          },
          '202': {
            description: 'The reply is not in yet: ask again after Retry-After',
            headers: {
              ...CORRELATION_ID,
              Location: { description: 'This reply’s path', schema: { type: 'string' } },
              'Retry-After': { $ref: '#/components/headers/Retry-After' },
            },
            content: { 'application/json': { schema: PENDING_SCHEMA } },
          },
          ...problemResponses([
            ...WATCHER_PROBLEMS,
            {
              status: '502',
              codes: ['RG_REPLY_MALFORMED'],
              description:
                'The stored reply has an unusable status or headers, or more headers than REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES',
            },
          ]),
        },
      },
    },
    '/v1/replies/{id}/events': {
      get: {
        operationId: 'replygateFollowReply',
        summary: 'Follow a reply answered 202 as Server-Sent Events: `pending`, then `reply`, `timeout` or `error`',
        parameters: [...TOKEN_PARAMETERS],
        responses: {
          '200': {
            description: 'An event stream, held at most REPLYGATE_MAX_WAIT_MS; an unusable reply is an `error` event',
            headers: CORRELATION_ID,
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...problemResponses(WATCHER_PROBLEMS),
        },
      },
    },
  };
}

const PENDING_SCHEMA = {
  type: 'object',
  required: ['correlationId', 'status', 'location'],
  properties: {
    correlationId: { type: 'string' },
    status: { type: 'string', const: 'pending' },
    location: { type: 'string' },
  },
};
