import { performance } from 'node:perf_hooks';

/**
 * Something with a deadline, linked into a {@link DeadlineQueue} in place: the queue allocates
 * nothing per item (a node `Timeout` and its callback closure cost ~170 B each, and a replica may
 * hold 100,000 parked requests).
 */
export interface Deadlined {
  /** When it expires, in `performance.now()` milliseconds (monotonic: a wall-clock step moves nothing). */
  deadline: number;
  /** Neighbours in its lane while queued; both `undefined` and `lane` unset when not queued. */
  older: Deadlined | undefined;
  newer: Deadlined | undefined;
  lane: DeadlineLane | undefined;
}

/** The items of one timeout length: added in deadline order, so one timer (for the oldest) serves them all. */
export class DeadlineLane {
  oldest: Deadlined | undefined = undefined;
  newest: Deadlined | undefined = undefined;
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(readonly timeoutMs: number) {}
}

/** Tolerance for a timer firing a little early (libuv rounds its clock to the millisecond). */
const EARLY_MS = 1;

/**
 * Deadlines grouped by timeout length, as node's own timer lists are: items of one length expire
 * in the order they were added, so each length needs one timer. Each item expires once, unless
 * removed first. Timers are not unref'd: pending deadlines keep the process alive, as a
 * `setTimeout` per item did.
 */
export class DeadlineQueue<T extends Deadlined> {
  private readonly lanes = new Map<number, DeadlineLane>();

  constructor(private readonly onExpired: (item: T) => void) {}

  /** Queue `item` to expire `timeoutMs` from now. An item already queued is moved. */
  add(item: T, timeoutMs: number): void {
    if (item.lane !== undefined) this.remove(item);
    const ms = Math.max(1, Math.ceil(timeoutMs));
    let lane = this.lanes.get(ms);
    if (lane === undefined) {
      lane = new DeadlineLane(ms);
      this.lanes.set(ms, lane);
    }
    item.deadline = performance.now() + ms;
    item.lane = lane;
    item.older = lane.newest;
    item.newer = undefined;
    if (lane.newest === undefined) lane.oldest = item;
    else lane.newest.newer = item;
    lane.newest = item;
    if (lane.timer === undefined) this.arm(lane, ms);
  }

  /** Take `item` out before its deadline; nothing when it is not queued (or already expired). */
  remove(item: T): void {
    const lane = item.lane;
    if (lane === undefined) return;
    if (item.older === undefined) lane.oldest = item.newer;
    else item.older.newer = item.newer;
    if (item.newer === undefined) lane.newest = item.older;
    else item.newer.older = item.older;
    item.older = item.newer = item.lane = undefined;
    // The lane's timer stays armed for the removed item's deadline; it finds nothing due and re-arms.
    if (lane.oldest === undefined) this.drop(lane);
  }

  /** Items queued (walks every lane: for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) for (let i = lane.oldest; i !== undefined; i = i.newer) n++;
    return n;
  }

  private arm(lane: DeadlineLane, inMs: number): void {
    lane.timer = setTimeout(() => this.fire(lane), Math.max(1, Math.ceil(inMs)));
  }

  private drop(lane: DeadlineLane): void {
    clearTimeout(lane.timer);
    lane.timer = undefined;
    if (this.lanes.get(lane.timeoutMs) === lane) this.lanes.delete(lane.timeoutMs);
  }

  private fire(lane: DeadlineLane): void {
    lane.timer = undefined;
    const now = performance.now();
    try {
      // Read the oldest afresh each time: an expiry may remove (or add) other items.
      for (let item = lane.oldest; item !== undefined && item.deadline <= now + EARLY_MS; item = lane.oldest) {
        this.remove(item as T);
        this.onExpired(item as T);
      }
    } finally {
      // Also after a handler threw (which surfaces as any timer callback's error would): the
      // items behind it still expire.
      if (lane.oldest !== undefined && lane.timer === undefined) this.arm(lane, lane.oldest.deadline - now);
    }
  }
}
