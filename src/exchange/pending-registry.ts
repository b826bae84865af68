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

interface Waiter {
  resolve: (outcome: PendingOutcome) => void;
  timer: NodeJS.Timeout;
  startedAt: number;
  /** A long-poll or event stream on `/v1/replies`, not a request: counted apart from `size`. */
  watcher: boolean;
}

interface PendingEntry {
  /** Usually one; more when idempotent retries wait for the same reply. */
  waiters: Waiter[];
  /** Set while a store read for this entry is in flight, so one notification storm costs one read. */
  reading: boolean;
  /** A notification arrived while a read was in flight: read again when it ends. */
  rereadWanted: boolean;
  route: string;
  /** Notified reads that failed in a row (the store connection dropped): paces the retries. */
  readFailures?: number;
  /** The retry of a notified read that failed. */
  retryTimer?: NodeJS.Timeout;
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

/** A way to end one waiter early, e.g. when its client went away. */
export type CancelWaiter = (reason: string) => void;

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
      const requests = entry.waiters.filter((w) => !w.watcher).length;
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
      let entry = this.entries.get(correlationId);
      if (entry === undefined) {
        entry = { waiters: [], reading: false, rereadWanted: false, route };
        this.entries.set(correlationId, entry);
      }
      const waiter: Waiter = {
        resolve,
        startedAt: Date.now(),
        timer: setTimeout(() => this.expire(correlationId, waiter), timeoutMs),
        watcher: options.watcher === true,
      };
      entry.waiters.push(waiter);
      this.count(waiter, 1);
      onPark?.((reason) => this.endWaiter(correlationId, waiter, { kind: 'cancelled', reason }));
    });
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

  private expire(correlationId: string, waiter: Waiter): void {
    const entry = this.entries.get(correlationId);
    if (entry === undefined || !entry.waiters.includes(waiter)) return;
    // One last read: the notification may have been lost (e.g. during a Redis reconnect).
    this.readAndSettle(correlationId, entry, waiter);
  }

  private readAndSettle(correlationId: string, entry: PendingEntry, expiring: Waiter | undefined): void {
    if (entry.reading && expiring === undefined) {
      entry.rereadWanted = true;
      return;
    }
    entry.reading = true;
    clearTimeout(entry.retryTimer);
    entry.retryTimer = undefined;
    const timedOut = (w: Waiter) => ({ kind: 'timeout' as const, waitedMs: Date.now() - w.startedAt });
    const read = this.read(correlationId);
    (expiring === undefined ? read : boundedRead(read)).then(
      (raw) => {
        entry.reading = false;
        if (raw !== null) {
          this.settle(correlationId, { kind: 'reply', raw });
        } else if (expiring !== undefined) {
          this.endWaiter(correlationId, expiring, timedOut(expiring));
        } else if (entry.rereadWanted) {
          entry.rereadWanted = false;
          this.readAndSettle(correlationId, entry, undefined);
        }
      },
      (err: unknown) => {
        entry.reading = false;
        this.observer.onReadError?.(correlationId, err);
        if (expiring !== undefined) {
          this.endWaiter(correlationId, expiring, { ...timedOut(expiring), readFailed: true });
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
    const failures = entry.readFailures ?? 0;
    entry.readFailures = failures + 1;
    const delay = NOTIFIED_READ_RETRY_MS[Math.min(failures, NOTIFIED_READ_RETRY_MS.length - 1)] as number;
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      if (this.entries.get(correlationId) === entry) this.readAndSettle(correlationId, entry, undefined);
    }, delay);
    entry.retryTimer.unref?.();
  }

  private endWaiter(correlationId: string, waiter: Waiter, outcome: PendingOutcome): void {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) return;
    const index = entry.waiters.indexOf(waiter);
    if (index < 0) return;
    entry.waiters.splice(index, 1);
    this.count(waiter, -1);
    if (entry.waiters.length === 0) {
      this.entries.delete(correlationId);
      clearTimeout(entry.retryTimer);
    }
    clearTimeout(waiter.timer);
    waiter.resolve(outcome);
    if (entry.waiters.length === 0 && outcome.kind !== 'reply') {
      this.observer.onAbandoned?.(correlationId, outcome.kind === 'timeout' ? 'timeout' : outcome.reason);
    }
  }

  private settle(correlationId: string, outcome: PendingOutcome): boolean {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) return false;
    this.entries.delete(correlationId);
    clearTimeout(entry.retryTimer);
    for (const waiter of entry.waiters) {
      this.count(waiter, -1);
      clearTimeout(waiter.timer);
      waiter.resolve(outcome);
    }
    if (outcome.kind === 'cancelled') this.observer.onAbandoned?.(correlationId, outcome.reason);
    return true;
  }

  private count(waiter: Waiter, delta: 1 | -1): void {
    if (waiter.watcher) this.watcherCount += delta;
    else this.waiterCount += delta;
  }
}
