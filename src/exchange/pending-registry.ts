import { performance } from 'node:perf_hooks';
import { DeadlineQueue, type DeadlineLane, type Deadlined } from './deadline-queue';

/** How a parked request ended. */
export type PendingOutcome =
  | { kind: 'reply'; raw: Buffer }
  | {
      kind: 'timeout';
      waitedMs: number;
      /** The last read at the deadline failed (store unreachable): a reply may exist but could not be read. */
      readFailed?: boolean;
    }
  | { kind: 'cancelled'; reason: string };

/** Told once how a parked wait ended (a parked request's answer, or a promise's resolve). */
export interface WaitEnd {
  ended(outcome: PendingOutcome): void;
}

/** A way to end one waiter early, e.g. when its client went away. */
export interface CancelWaiter {
  cancel(reason: string): void;
}

/**
 * One parked wait. It is its own deadline (linked into the registry's {@link DeadlineQueue}, no
 * timer of its own) and its own cancel handle (no closure): what 100,000 parked requests hold.
 */
class Waiter implements Deadlined, CancelWaiter {
  deadline = 0;
  older: Deadlined | undefined = undefined;
  newer: Deadlined | undefined = undefined;
  lane: DeadlineLane | undefined = undefined;

  constructor(
    private readonly registry: PendingRegistry,
    readonly entry: PendingEntry,
    readonly end: WaitEnd,
    readonly timeoutMs: number,
    /** A long-poll or event stream on `/v1/replies`, not a request: counted apart from `size`. */
    readonly watcher: boolean,
  ) {}

  cancel(reason: string): void {
    this.registry.endWaiter(this, { kind: 'cancelled', reason });
  }

  /** How long it has waited, from its deadline (no start time is kept). */
  waitedMs(): number {
    return Math.round(performance.now() - (this.deadline - this.timeoutMs));
  }
}

/** The waiters of one correlation id: usually one; more when idempotent retries wait for the same reply. */
class PendingEntry {
  /** The first waiter; `others` only exists once a second one comes. */
  first: Waiter | undefined = undefined;
  others: Waiter[] | undefined = undefined;
  /** Set while a store read for this entry is in flight, so one notification storm costs one read. */
  reading = false;
  /** A notification arrived while a read was in flight: read again when it ends. */
  rereadWanted = false;
  /** Notified reads that failed in a row (the store connection dropped): paces the retries. */
  readFailures = 0;
  /** The retry of a notified read that failed. */
  retryTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly correlationId: string,
    readonly route: string,
  ) {}

  add(waiter: Waiter): void {
    if (this.first === undefined) this.first = waiter;
    else (this.others ??= []).push(waiter);
  }

  /** Take `waiter` out; false when it is not here (it already ended). */
  remove(waiter: Waiter): boolean {
    if (this.first === waiter) {
      this.first = this.others?.shift();
      return true;
    }
    const index = this.others?.indexOf(waiter) ?? -1;
    if (index < 0) return false;
    this.others?.splice(index, 1);
    return true;
  }

  includes(waiter: Waiter): boolean {
    return this.first === waiter || (this.others?.includes(waiter) ?? false);
  }

  get empty(): boolean {
    return this.first === undefined;
  }

  /** Every waiter, first first. */
  all(): Waiter[] {
    if (this.first === undefined) return [];
    return this.others === undefined ? [this.first] : [this.first, ...this.others];
  }
}

/**
 * After a notified read fails (e.g. the store connection was reset right after the notification),
 * read again after these delays instead of leaving the reply to the read at the deadline: the
 * notification is spent, and nothing else would wake the request.
 */
const NOTIFIED_READ_RETRY_MS = [50, 100, 250, 500, 1000] as const;

/** Reads a stored reply; `null` when there is none yet. */
export type ReplyReader = (correlationId: string) => Promise<Buffer | null>;

/** Observes registry events, for metrics. */
export interface PendingRegistryObserver {
  onLateReply?(correlationId: string): void;
  onReadError?(correlationId: string, err: unknown): void;
  /** The last waiter for `correlationId` ended without its reply (`timeout`, or the cancel reason). */
  onAbandoned?(correlationId: string, reason: string): void;
}

/** How a waiter is parked. */
export interface ParkOptions {
  /**
   * A watcher (`GET /v1/replies/<id>` long-poll or SSE stream), not a request: it is left out of
   * {@link PendingRegistry.size}, so watchers never count against REPLYGATE_MAX_PENDING (they
   * have their own bound, REPLYGATE_MAX_WATCHERS). @defaultValue false
   */
  watcher?: boolean;
}

/**
 * How long the last read at a deadline may take. A store that holds a command instead of failing it
 * (a Redis Cluster client waiting out a master's failover) must not keep the request past its
 * timeout: the read counts as failed, which answers 503 (a reply may exist), as for a store away.
 */
export const DEADLINE_READ_MS = 1000;

function boundedRead<T>(read: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the last read did not answer within ${DEADLINE_READ_MS} ms`)),
      DEADLINE_READ_MS,
    );
  });
  return Promise.race([read, late]).finally(() => clearTimeout(timer));
}

/**
 * The parked requests of one replica, keyed by correlation id, in the same shape as kafkajs'
 * in-flight request map. Each waiter ends exactly once: with its reply, at its deadline (after
 * one last read, so a reply whose notification was lost is still delivered), or cancelled.
 */
export class PendingRegistry {
  private readonly entries = new Map<string, PendingEntry>();
  /** Ids of async requests (202): their reply has no waiter here and is not late. Bounded. */
  private readonly unwaited = new Set<string>();
  private waiterCount = 0;
  private watcherCount = 0;
  private readonly deadlines = new DeadlineQueue<Waiter>((waiter) => this.expire(waiter));

  constructor(
    private readonly read: ReplyReader,
    private readonly observer: PendingRegistryObserver = {},
  ) {}

  /** Number of parked requests (watchers not included). */
  get size(): number {
    return this.waiterCount;
  }

  /** Number of parked watchers (long-polls and event streams on `/v1/replies`). */
  get watchers(): number {
    return this.watcherCount;
  }

  /** Correlation ids currently waited for. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  /** Parked waiters by route name (for `GET /admin/pending`; walks every entry). */
  countsByRoute(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const entry of this.entries.values()) {
      const requests = entry.all().filter((w) => !w.watcher).length;
      if (requests > 0) counts[entry.route] = (counts[entry.route] ?? 0) + requests;
    }
    return counts;
  }

  has(correlationId: string): boolean {
    return this.entries.has(correlationId);
  }

  /**
   * Park a request until its reply arrives or `timeoutMs` passes. Call before publishing, so a
   * notification for a very fast reply always finds the entry. Parking an id already parked adds
   * a waiter for the same reply (an idempotent retry).
   */
  park(
    correlationId: string,
    timeoutMs: number,
    route: string,
    onPark?: (cancel: CancelWaiter) => void,
    options: ParkOptions = {},
  ): Promise<PendingOutcome> {
    return new Promise<PendingOutcome>((resolve) => {
      const cancel = this.parkWaiter(correlationId, timeoutMs, route, { ended: resolve }, options);
      onPark?.(cancel);
    });
  }

  /**
   * {@link park} without a promise: `end.ended` is called once (in a later microtask, as a
   * promise's continuation would be), and the returned handle cancels the wait. What a parked
   * request holds is then `end`, the waiter and its entry: no promise, timer or closure.
   */
  parkWaiter(
    correlationId: string,
    timeoutMs: number,
    route: string,
    end: WaitEnd,
    options: ParkOptions = {},
  ): CancelWaiter {
    let entry = this.entries.get(correlationId);
    if (entry === undefined) {
      entry = new PendingEntry(correlationId, route);
      this.entries.set(correlationId, entry);
    }
    const ms = Math.max(1, Math.ceil(timeoutMs));
    const waiter = new Waiter(this, entry, end, ms, options.watcher === true);
    entry.add(waiter);
    this.count(waiter, 1);
    this.deadlines.add(waiter, ms);
    return waiter;
  }

  /** A reply for `correlationId` has been stored: read it and end the wait. */
  notify(correlationId: string): void {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) {
      // A reply nobody here waits for: late, unless it answers an async request (fetched later).
      if (!this.unwaited.delete(correlationId)) this.observer.onLateReply?.(correlationId);
      return;
    }
    this.readAndSettle(correlationId, entry, undefined);
  }

  /** Deliver a reply already in hand (e.g. read in a batch during resync). */
  deliver(correlationId: string, raw: Buffer): boolean {
    return this.settle(correlationId, { kind: 'reply', raw });
  }

  /** End every wait for `correlationId` without a reply, e.g. publishing failed. */
  cancel(correlationId: string, reason: string): boolean {
    return this.settle(correlationId, { kind: 'cancelled', reason });
  }

  /**
   * A request answered 202 (`Prefer: respond-async`): its reply will find no waiter here and must
   * not count as late. Remembered until the reply comes or `forMs` passes (at most 100,000 ids).
   */
  expectUnwaited(correlationId: string, forMs: number): void {
    if (this.unwaited.size >= 100_000) return;
    this.unwaited.add(correlationId);
    setTimeout(() => this.unwaited.delete(correlationId), forMs).unref();
  }

  /** End every wait, e.g. at the end of the shutdown grace period. */
  cancelAll(reason: string): void {
    for (const id of this.ids()) this.cancel(id, reason);
  }

  private expire(waiter: Waiter): void {
    const entry = waiter.entry;
    if (this.entries.get(entry.correlationId) !== entry || !entry.includes(waiter)) return;
    // One last read: the notification may have been lost (e.g. during a Redis reconnect).
    this.readAndSettle(entry.correlationId, entry, waiter);
  }

  private readAndSettle(correlationId: string, entry: PendingEntry, expiring: Waiter | undefined): void {
    if (entry.reading && expiring === undefined) {
      entry.rereadWanted = true;
      return;
    }
    entry.reading = true;
    clearTimeout(entry.retryTimer);
    entry.retryTimer = undefined;
    const timedOut = (w: Waiter) => ({ kind: 'timeout' as const, waitedMs: w.waitedMs() });
    const read = this.read(correlationId);
    (expiring === undefined ? read : boundedRead(read)).then(
      (raw) => {
        entry.reading = false;
        if (raw !== null) {
          this.settle(correlationId, { kind: 'reply', raw });
        } else if (expiring !== undefined) {
          this.endWaiter(expiring, timedOut(expiring));
        } else if (entry.rereadWanted) {
          entry.rereadWanted = false;
          this.readAndSettle(correlationId, entry, undefined);
        }
      },
      (err: unknown) => {
        entry.reading = false;
        this.observer.onReadError?.(correlationId, err);
        if (expiring !== undefined) {
          this.endWaiter(expiring, { ...timedOut(expiring), readFailed: true });
        } else if (entry.rereadWanted) {
          entry.rereadWanted = false;
          this.readAndSettle(correlationId, entry, undefined);
        } else {
          this.retryNotifiedRead(correlationId, entry);
        }
      },
    );
  }

  private retryNotifiedRead(correlationId: string, entry: PendingEntry): void {
    const failures = entry.readFailures;
    entry.readFailures = failures + 1;
    const delay = NOTIFIED_READ_RETRY_MS[Math.min(failures, NOTIFIED_READ_RETRY_MS.length - 1)] as number;
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      if (this.entries.get(correlationId) === entry) this.readAndSettle(correlationId, entry, undefined);
    }, delay);
    entry.retryTimer.unref?.();
  }

  /**
   * End one waiter (its cancel, or its deadline); nothing when it already ended. Public only for
   * the registry's own `Waiter.cancel`: callers cancel through the handle `parkWaiter` returns.
   * @internal
   */
  endWaiter(waiter: Waiter, outcome: PendingOutcome): void {
    const entry = waiter.entry;
    const correlationId = entry.correlationId;
    if (this.entries.get(correlationId) !== entry || !entry.remove(waiter)) return;
    this.count(waiter, -1);
    this.deadlines.remove(waiter);
    if (entry.empty) {
      this.entries.delete(correlationId);
      clearTimeout(entry.retryTimer);
    }
    tell(waiter, outcome);
    if (entry.empty && outcome.kind !== 'reply') {
      this.observer.onAbandoned?.(correlationId, outcome.kind === 'timeout' ? 'timeout' : outcome.reason);
    }
  }

  private settle(correlationId: string, outcome: PendingOutcome): boolean {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) return false;
    this.entries.delete(correlationId);
    clearTimeout(entry.retryTimer);
    for (const waiter of entry.all()) {
      this.count(waiter, -1);
      this.deadlines.remove(waiter);
      tell(waiter, outcome);
    }
    entry.first = entry.others = undefined;
    if (outcome.kind === 'cancelled') this.observer.onAbandoned?.(correlationId, outcome.reason);
    return true;
  }

  private count(waiter: Waiter, delta: 1 | -1): void {
    if (waiter.watcher) this.watcherCount += delta;
    else this.waiterCount += delta;
  }
}

/** Tell `waiter` how its wait ended, in a microtask of its own (a throwing receiver stops no other). */
function tell(waiter: Waiter, outcome: PendingOutcome): void {
  const end = waiter.end;
  queueMicrotask(() => end.ended(outcome));
}
