import { createHash } from 'node:crypto';

/**
 * Event-driven routes (issue 15): a route that answers with a domain event matched to the request
 * (`await:` in the routes file) instead of a correlated reply. The shapes here are shared by the
 * replica that registers a waiter (routing/, exchange/, redis/) and the relay that reads the event
 * topic (relay/): both must compute the same entity of the same values.
 */

/** Where an event value is read from: `key`, `value`, `value.a.b` or `header.<name>`. */
export const EVENT_PATH = /^(key|value(\.[A-Za-z0-9_$-]+)*|header\.[A-Za-z0-9_.:-]+)$/;

/** One match rule: the event's field at `event` must equal the request's value at `request`. */
export interface EventMatchRule {
  /** Event path (see {@link EVENT_PATH}). */
  event: string;
  /**
   * Request expression: `params.x`, `query.x`, `header.x` or `body.a.b`; on a command route also
   * `reply.body.a.b` or `reply.header.x`, read from the service's correlated reply to the command
   * (the id of what the command created).
   */
  request: string;
}

/** A request expression that reads the command's reply (`reply.body.…`, `reply.header.…`). */
export function isReplyExpression(request: string): boolean {
  return request.startsWith('reply.');
}

/** The state predicate: wait until the entity's `field` is one of `in`. */
export interface EventStatePredicate {
  field: string;
  in: readonly string[];
  /** HTTP status per state (`REJECTED: 422`); others answer 200. */
  status: Readonly<Record<string, number>>;
}

/** A route's `await` settings, resolved (see `config/route-await.ts`). */
export interface RouteAwait {
  /** The event topic. */
  topic: string;
  /** Every rule must hold (AND). Never empty. */
  match: readonly EventMatchRule[];
  state: EventStatePredicate | undefined;
  /**
   * Whether the route publishes a command first (it has a `topic` of its own). Without one it is
   * a blocking read: the relay keeps the latest event per entity for `stateTtlMs`.
   */
  command: boolean;
  /**
   * `stream: true` on the route: every matching event newer than the request is a reply part
   * (`<id>#<seq>`), the one in an awaited state (or the first, without `state`) the final one.
   */
  stream: boolean;
  /** How long the latest event per entity is kept, for blocking reads. */
  stateTtlMs: number;
  /** Most waiters on one entity of this route at once (across replicas); beyond, 429. */
  maxWaiters: number;
  /**
   * Some match rule reads the command's reply (`reply.…`): the gateway waits for that reply first,
   * then registers; the relay keeps the latest event per entity (for the route's horizon), since
   * the event may come before the reply.
   */
  fromReply: boolean;
}

/**
 * The match values of a request on a `fromReply` route, one per rule, in rule order: the value
 * taken from the request, or the reply expression still to read once the command's reply is in.
 */
export type PendingMatchValue = { value: string } | { reply: string };

/** What a request registers before its command is published (carried on the outgoing request). */
export interface EventInterest {
  route: string;
  /** Hash of the matched values (see {@link entityOf}). */
  entity: string;
  /**
   * Epoch ms recorded at registration, before the command is published: an event whose Kafka
   * timestamp is older never answers (0 for a blocking read: any state counts).
   */
  since: number;
  /** Blocking read: answer at once from the kept latest state when it satisfies the predicate. */
  readState: boolean;
  /** Answered in parts (a `stream: true` route): a kept state is written as part 0, final. */
  stream: boolean;
  maxWaiters: number;
  /** Epoch ms after which the waiter is gone. */
  expiresAt: number;
  /**
   * A `fromReply` route: `entity` is not known until the command's reply is in (it is `''` until
   * then); these are the values to hash, some still to read from the reply. The registration then
   * also reads the kept latest state, accepting it only when it is fresh (timestamp ≥ `since`).
   */
  pending?: readonly PendingMatchValue[] | undefined;
}

/** A `reply.…` expression the command's reply does not carry (answered 502, naming it). */
export interface MissingReplyValue {
  missing: string;
}

/**
 * Completes a `fromReply` interest with the command's reply (its headers, lower-case, and its body
 * parsed as JSON, `undefined` when it is not): the interest with its entity, or what is missing.
 */
export type ReplyInterestResolver = (
  interest: EventInterest,
  reply: { headers: Record<string, string>; body: unknown },
) => EventInterest | MissingReplyValue;

/**
 * The entity a list of matched values names: a hash, so request values never shape Redis keys
 * (no glob, no separator, no length games) and the relay computes the same from the event.
 *
 * @example
 * entityOf(['o-1']); // 'Y2x...' (base64url of the SHA-256 of '["o-1"]', 22 characters)
 */
export function entityOf(values: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(values)).digest('base64url').slice(0, 22);
}

/** A waiter in the interest set: `<correlationId> <since>`. */
export function interestMember(correlationId: string, since: number): string {
  return `${correlationId} ${since}`;
}

/** The inverse of {@link interestMember}; undefined when the member is not one. */
export function parseInterestMember(member: string): { correlationId: string; since: number } | undefined {
  const space = member.lastIndexOf(' ');
  if (space <= 0) return undefined;
  const since = Number(member.slice(space + 1));
  if (!Number.isFinite(since)) return undefined;
  return { correlationId: member.slice(0, space), since };
}

/**
 * The stale-event rule: an event answers a waiter only if its Kafka timestamp is at or after the
 * moment the waiter registered (which is before its command was published). An event caused by
 * the command is produced after the service read the command, so its timestamp is later; an event
 * already in the log before the command has an earlier one. Equality answers: timestamps are in
 * milliseconds, and an event of the same millisecond as the registration cannot be told apart, so
 * the rule errs towards answering rather than a 504 for a fast service.
 */
export function eventIsFresh(eventTimestamp: number, since: number): boolean {
  return eventTimestamp >= since;
}

/**
 * The latest event of an entity as kept for blocking reads and `fromReply` routes: one byte, `1`
 * when the event satisfies the route (its state predicate, or any event without one), the event's
 * Kafka timestamp in decimal and a space (so the registration script can apply
 * {@link eventIsFresh} to it), then the reply envelope to answer with. A record without the
 * timestamp (`1rg1…`, written before it existed) counts as timestamp 0.
 */
export function encodeStateRecord(satisfies: boolean, timestamp: number, envelope: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${satisfies ? '1' : '0'}${Math.max(0, Math.floor(timestamp))} `), envelope]);
}

/** The envelope of a kept state that satisfies its route, else undefined. */
export function satisfyingState(record: Buffer | null): Buffer | undefined {
  if (record === null || record.length < 2 || record[0] !== 0x31) return undefined;
  let i = 1;
  const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;
  while (isDigit(record[i])) i++;
  // Digits then a space: the timestamp; anything else is a record without one.
  return i > 1 && record[i] === 0x20 ? record.subarray(i + 1) : record.subarray(1);
}

/**
 * How long a waiter of a route stays registered: the route's timeout, twice that when the route
 * answers a timeout with 202 (it keeps waiting for the late event, as `expectUnwaited` keeps an
 * async reply's id, so a fetch of the 202's Location finds it).
 */
export function waiterLifetimeMs(route: { timeoutMs: number; timeoutResponse: number }): number {
  return route.timeoutResponse === 202 ? route.timeoutMs * 2 : route.timeoutMs;
}
