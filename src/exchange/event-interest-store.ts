import type { EventInterest } from '../protocol/event-await';

/** How a registration ended. */
export type InterestOutcome =
  /** Registered; the relay will write the matching event under the correlation id. */
  | { kind: 'registered' }
  /** Registered, and the kept latest state already answers it (written under the correlation id). */
  | { kind: 'answered' }
  /** Refused: the entity has `maxWaiters` waiters already. */
  | { kind: 'full'; limit: number };

/**
 * Where a waiter on an event route says what it waits for, before its command is published. The
 * Redis implementation is `RedisEventInterestStore`.
 */
export interface EventInterestStore {
  /**
   * Register `correlationId` as waiting for `interest`. For a blocking read, also look at the kept
   * latest state (after registering, so a state written meanwhile is seen by one side or the other)
   * and store it as the reply when it satisfies the route.
   */
  register(correlationId: string, interest: EventInterest): Promise<InterestOutcome>;
}

/** One event's look-up for one route, as the event relay batches them. */
export interface EventLookup {
  route: string;
  entity: string;
  /**
   * Blocking-read routes: the state record to keep (`encodeStateRecord`), before the waiters are
   * read. `ifNewer` (a re-read after a Redis restart): keep it only where the kept state would
   * expire sooner, i.e. is older, so a re-read event never replaces a newer state the live
   * consumer wrote meanwhile; `ttlMs` is then the event's remaining state lifetime.
   */
  keep?: { record: Buffer; ttlMs: number; ifNewer?: boolean } | undefined;
}

/** A live waiter found for an event. */
export interface FoundWaiter {
  correlationId: string;
  since: number;
}

/** What the event relay needs from the store, beside the reply store. */
export interface EventRelayStore {
  /**
   * For each look-up in order: keep its state when asked, then read the entity's live waiters (in
   * one round trip). The state is written before the waiters are read: see `EventInterestStore.register`.
   */
  keepAndFindWaiters(lookups: readonly EventLookup[], now: number): Promise<FoundWaiter[][]>;
  /**
   * Streamed routes: reserve `counts[i]` part numbers for each waiter and return the first (0 for a
   * waiter's first part), counted in Redis so every relay numbers one waiter's parts alike; the
   * counters live `ttlMs`.
   */
  nextSeqs(waiters: readonly AnsweredWaiter[], counts: readonly number[], ttlMs: number): Promise<number[]>;
  /** Remove waiters whose answer is stored, so they no longer count against `await.maxWaiters`. */
  forgetWaiters(answered: readonly AnsweredWaiter[]): Promise<void>;
}

/** A waiter the event relay answered. */
export interface AnsweredWaiter extends FoundWaiter {
  route: string;
  entity: string;
}
