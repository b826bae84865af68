/** How a parked request ended. */
export type PendingOutcome =
  | { kind: 'reply'; raw: Buffer }
  | { kind: 'timeout'; waitedMs: number }
  | { kind: 'cancelled'; reason: string };

interface PendingEntry {
  resolve: (outcome: PendingOutcome) => void;
  timer: NodeJS.Timeout;
  startedAt: number;
  /** Set while a store read for this entry is in flight, so one notification storm costs one read. */
  reading: boolean;
  /** A notification arrived while a read was in flight: read again when it ends. */
  rereadWanted: boolean;
  route: string;
}

/** Reads a stored reply; `null` when there is none yet. */
export type ReplyReader = (correlationId: string) => Promise<Buffer | null>;

/** Observes registry events, for metrics. */
export interface PendingRegistryObserver {
  onLateReply?(correlationId: string): void;
  onReadError?(correlationId: string, err: unknown): void;
}

/**
 * The parked requests of one replica, keyed by correlation id, in the same shape as kafkajs'
 * in-flight request map. Each entry ends exactly once: with its reply, at its deadline (after
 * one last read, so a reply whose notification was lost is still delivered), or cancelled.
 */
export class PendingRegistry {
  private readonly entries = new Map<string, PendingEntry>();

  constructor(
    private readonly read: ReplyReader,
    private readonly observer: PendingRegistryObserver = {},
  ) {}

  /** Number of parked requests. */
  get size(): number {
    return this.entries.size;
  }

  /** Correlation ids currently parked. */
  ids(): string[] {
    return [...this.entries.keys()];
  }

  has(correlationId: string): boolean {
    return this.entries.has(correlationId);
  }

  /**
   * Park a request until its reply arrives or `timeoutMs` passes. Call before publishing, so a
   * notification for a very fast reply always finds the entry.
   */
  park(correlationId: string, timeoutMs: number, route: string): Promise<PendingOutcome> {
    return new Promise<PendingOutcome>((resolve) => {
      const startedAt = Date.now();
      const timer = setTimeout(() => this.expire(correlationId), timeoutMs);
      this.entries.set(correlationId, { resolve, timer, startedAt, reading: false, rereadWanted: false, route });
    });
  }

  /** A reply for `correlationId` has been stored: read it and end the wait. */
  notify(correlationId: string): void {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) {
      this.observer.onLateReply?.(correlationId);
      return;
    }
    this.readAndSettle(correlationId, entry, false);
  }

  /** Deliver a reply already in hand (e.g. read in a batch during resync). */
  deliver(correlationId: string, raw: Buffer): boolean {
    return this.settle(correlationId, { kind: 'reply', raw });
  }

  /** End a wait without a reply, e.g. the client went away or publishing failed. */
  cancel(correlationId: string, reason: string): boolean {
    return this.settle(correlationId, { kind: 'cancelled', reason });
  }

  /** End every wait, e.g. at the end of the shutdown grace period. */
  cancelAll(reason: string): void {
    for (const id of this.ids()) this.cancel(id, reason);
  }

  private expire(correlationId: string): void {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) return;
    // One last read: the notification may have been lost (e.g. during a Redis reconnect).
    this.readAndSettle(correlationId, entry, true);
  }

  private readAndSettle(correlationId: string, entry: PendingEntry, final: boolean): void {
    if (entry.reading && !final) {
      entry.rereadWanted = true;
      return;
    }
    entry.reading = true;
    this.read(correlationId).then(
      (raw) => {
        entry.reading = false;
        if (raw !== null) {
          this.settle(correlationId, { kind: 'reply', raw });
        } else if (final) {
          this.settle(correlationId, { kind: 'timeout', waitedMs: Date.now() - entry.startedAt });
        } else if (entry.rereadWanted) {
          entry.rereadWanted = false;
          this.readAndSettle(correlationId, entry, false);
        }
      },
      (err: unknown) => {
        entry.reading = false;
        this.observer.onReadError?.(correlationId, err);
        if (final) this.settle(correlationId, { kind: 'timeout', waitedMs: Date.now() - entry.startedAt });
      },
    );
  }

  private settle(correlationId: string, outcome: PendingOutcome): boolean {
    const entry = this.entries.get(correlationId);
    if (entry === undefined) return false;
    this.entries.delete(correlationId);
    clearTimeout(entry.timer);
    entry.resolve(outcome);
    return true;
  }
}
