import { z } from 'zod';
import { EVENT_PATH, isReplyExpression, type RouteAwait } from '../protocol/event-await';
import { KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE } from '../protocol/topic-name';

/**
 * Request expressions a match rule may compare with: a partition key's (`params`, `query`, `body`,
 * `header`), or on a command route the service's reply to the command (`reply.body.<path>`,
 * `reply.header.<name>`): the id of what the command created.
 */
export const REQUEST_EXPR =
  /^(?:(params|query|body|header)|reply\.body)(\.[A-Za-z0-9_-]+)+$|^reply\.header\.[A-Za-z0-9_-]+$/;

const EVENT_PATH_MESSAGE = 'use key, value, value.<path> or header.<name>';
const REQUEST_EXPR_MESSAGE =
  'use params.<name>, query.<name>, header.<name>, body.<path>, reply.body.<path> or reply.header.<name>';
const STATE_VALUE = z.string().min(1).max(256);

/**
 * A route's `await:` block: answer with the event that matches the request instead of a correlated
 * reply. `match` maps event paths to request expressions; every pair must hold.
 */
export const awaitSchema = z
  .object({
    /** The event topic the relay tier reads (its own consumer group, REPLYGATE_EVENT_GROUP). */
    topic: z.string().regex(KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE),
    /**
     * `<event path>: <request expression>`, e.g. `value.payload.after.email: body.email`,
     * `key: params.id`, `header.tenant: header.x-tenant`. At least one; all must hold. A command
     * route may also name the service's correlated reply to the command, `value.orderId:
     * reply.body.orderId` or `key: reply.header.x-order-id`: the gateway waits for that reply,
     * then for the event.
     */
    match: z
      .record(z.string(), z.string())
      .refine((m) => Object.keys(m).length > 0 && Object.keys(m).length <= 8, 'give 1 to 8 match rules'),
    /** Wait until the matched entity is in one of these states (`field` read from the event). */
    state: z
      .object({
        field: z.string().regex(EVENT_PATH, EVENT_PATH_MESSAGE),
        in: z.array(STATE_VALUE).min(1).max(64),
        /** HTTP status per state, e.g. `{ REJECTED: 422 }`; others answer 200. */
        status: z.record(STATE_VALUE, z.number().int().min(200).max(599)).default({}),
      })
      .strict()
      .optional(),
    /** Blocking reads: how long the latest event per entity is kept in Redis. @defaultValue 3600000 */
    stateTtlMs: z
      .number()
      .int()
      .min(1000)
      .max(30 * 24 * 3_600_000)
      .default(3_600_000),
    /** Most waiters on one entity at once, across replicas (429 beyond). @defaultValue 100 */
    maxWaiters: z.number().int().min(1).max(100_000).default(100),
  })
  .strict()
  .superRefine((a, ctx) => {
    for (const [event, request] of Object.entries(a.match)) {
      if (!EVENT_PATH.test(event)) {
        ctx.addIssue({ code: 'custom', message: `${event}: ${EVENT_PATH_MESSAGE}`, path: ['match', event] });
      }
      if (!REQUEST_EXPR.test(request)) {
        ctx.addIssue({ code: 'custom', message: `${request}: ${REQUEST_EXPR_MESSAGE}`, path: ['match', event] });
      }
    }
    for (const state of Object.keys(a.state?.status ?? {})) {
      if (!a.state?.in.includes(state)) {
        ctx.addIssue({
          code: 'custom',
          message: `${state} is not one of state.in (${a.state?.in.join(', ')})`,
          path: ['state', 'status', state],
        });
      }
    }
  });

/** The `await` block as written, defaults applied. */
export type AwaitSpec = z.output<typeof awaitSchema>;

/** The `await` field of a route in the routes file (spread into the route schema). */
export const routeAwaitFields = {
  /** Answer with a matching event (see README "Event-driven routes"). */
  await: awaitSchema.optional(),
};

/**
 * Resolve a route's `await` block. `hasCommand` is whether the route has a `topic` of its own to
 * publish a command to; without one the route is a blocking read. `stream` (the route's
 * `stream: true`) answers every matching event as a part, until one in the awaited state.
 */
export function resolveAwait(spec: AwaitSpec, hasCommand: boolean, stream = false): RouteAwait {
  return {
    topic: spec.topic,
    match: Object.entries(spec.match).map(([event, request]) => ({ event, request })),
    state:
      spec.state === undefined ? undefined : { field: spec.state.field, in: spec.state.in, status: spec.state.status },
    command: hasCommand,
    stream,
    stateTtlMs: spec.stateTtlMs,
    maxWaiters: spec.maxWaiters,
    fromReply: Object.values(spec.match).some(isReplyExpression),
  };
}
