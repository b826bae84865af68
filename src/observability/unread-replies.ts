import type { Counter, Histogram } from 'prom-client';

/** Why a request ended without reading its reply. */
export type AbandonReason = 'timeout' | 'client-closed' | 'shutdown' | 'publish-failed' | string;

interface Abandoned {
  reason: AbandonReason;
  endedAt: number;
}

/** Settings of {@link UnreadReplies}. */
export interface UnreadRepliesOptions {
  /** How long an ended request is remembered: REPLYGATE_REPLY_TTL_MS (a reply arriving later expired anyway). */
  rememberMs: number;
  /** Bound on remembered requests; the oldest are forgotten first. @defaultValue 100000 */
  maxEntries?: number;
}

/**
 * Counts replies that were stored but that nobody will read, so they sit in Redis until their TTL
 * evicts them: the "TTL too long / clients gave up / timeout too tight" signal.
 *
 * The origin replica knows: when a request ends without its reply (timeout, client gone,
 * shutdown) it remembers the id for a while; when a reply for a remembered id is stored later (a
 * late keyspace notification), that reply will stay unread. This costs nothing on the reply path
 * and needs no extra Redis notification class (keyspace `expired` events would need `Kx` on every
 * Redis, fire for every key of every replica, and arrive only at TTL).
 *
 * Slight over-count: an idempotent retry may still read such a reply.
 */
export class UnreadReplies {
  private readonly abandoned = new Map<string, Abandoned>();
  private readonly maxEntries: number;

  constructor(
    private readonly unread: Counter<'reason'>,
    private readonly lateness: Histogram,
    private readonly options: UnreadRepliesOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  /** Number of ended requests remembered now. */
  get size(): number {
    return this.abandoned.size;
  }

  /** A request ended without reading its reply. */
  abandon(correlationId: string, reason: AbandonReason, now = Date.now()): void {
    this.prune(now);
    this.abandoned.delete(correlationId);
    this.abandoned.set(correlationId, { reason, endedAt: now });
  }

  /** A reply was stored for a request no longer parked here: it will not be read. */
  lateReply(correlationId: string, now = Date.now()): void {
    const entry = this.abandoned.get(correlationId);
    if (entry === undefined) {
      // Ended too long ago, before a restart, or never parked here (another replica's follower).
      this.unread.inc({ reason: 'unknown' });
      return;
    }
    this.abandoned.delete(correlationId);
    this.unread.inc({ reason: entry.reason });
    this.lateness.observe((now - entry.endedAt) / 1000);
  }

  private prune(now: number): void {
    // Insertion order is end order: the oldest entries are first.
    for (const [id, entry] of this.abandoned) {
      if (this.abandoned.size < this.maxEntries && now - entry.endedAt < this.options.rememberMs) break;
      this.abandoned.delete(id);
    }
  }
}
