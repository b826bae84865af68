import { WatcherLimitError } from '../errors/reply-errors';

/** The bounds of {@link WatcherLimiter}. */
export interface WatcherLimits {
  /** REPLYGATE_MAX_WATCHERS: long-polls and event streams held at once on this replica. */
  maxWatchers: number;
  /** REPLYGATE_MAX_WATCHERS_PER_REPLY: long-polls and event streams held at once on one reply id. */
  maxWatchersPerReply: number;
}

/** Gives a watcher's place back; calling it twice is harmless. */
export type ReleaseWatcher = () => void;

/**
 * Places for watchers (`Prefer: wait=N` long-polls and SSE streams on `/v1/replies/<id>`), apart
 * from REPLYGATE_MAX_PENDING: a thousand watchers on one's own async request must not leave
 * parked requests without room. Bounded per replica and per reply id, in memory (a watcher holds
 * this replica's socket, so this replica is where the bound belongs).
 *
 * @example
 * const watchers = new WatcherLimiter({ maxWatchers: 1000, maxWatchersPerReply: 4 });
 * const release = watchers.acquire(id); // throws WatcherLimitError beyond a bound
 * try { await waitForReply(); } finally { release(); }
 */
export class WatcherLimiter {
  private active = 0;
  private readonly perReply = new Map<string, number>();

  constructor(private readonly limits: WatcherLimits) {}

  /** Watchers held now on this replica. */
  get size(): number {
    return this.active;
  }

  /** Take a place for a watcher of `replyId`, or throw {@link WatcherLimitError}. */
  acquire(replyId: string): ReleaseWatcher {
    if (this.active >= this.limits.maxWatchers) throw new WatcherLimitError('replica', this.limits.maxWatchers);
    const onReply = this.perReply.get(replyId) ?? 0;
    if (onReply >= this.limits.maxWatchersPerReply) {
      throw new WatcherLimitError('reply', this.limits.maxWatchersPerReply);
    }
    this.active++;
    this.perReply.set(replyId, onReply + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const left = (this.perReply.get(replyId) ?? 1) - 1;
      if (left <= 0) this.perReply.delete(replyId);
      else this.perReply.set(replyId, left);
    };
  }
}
