import type { EventInterest } from '../protocol/event-await';

/** At most this many registrations are remembered (beyond it the oldest are dropped). */
const MAX_REMEMBERED = 100_000;

/**
 * The event waiters this replica registered in Redis, with their registration as sent (its
 * `since` included), so they can be registered again after Redis lost them (a restart without
 * persistence): the registration lives in Redis, the waiting request here. An entry is kept until
 * the waiter's `expiresAt`; whether its request still waits is asked at re-registration time.
 *
 * @example
 * ledger.remember(id, interest);
 * for (const [id, interest] of ledger.live(Date.now())) await store.register(id, interest);
 */
export class EventInterestLedger {
  private readonly entries = new Map<string, EventInterest>();

  get size(): number {
    return this.entries.size;
  }

  remember(correlationId: string, interest: EventInterest): void {
    this.dropExpiredFront(Date.now());
    if (this.entries.size >= MAX_REMEMBERED) this.prune(Date.now());
    if (this.entries.size >= MAX_REMEMBERED) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(correlationId, interest);
  }

  forget(correlationId: string): void {
    this.entries.delete(correlationId);
  }

  /** The registrations not yet expired at `now` (expired ones are dropped). */
  live(now: number): [string, EventInterest][] {
    this.prune(now);
    return [...this.entries];
  }

  /**
   * Entries are kept in insertion order, which is nearly expiry order (waiters of one route live
   * alike): dropping the expired ones at the front on every insert keeps the ledger at about
   * rate × waiter lifetime without a timer or a full scan.
   */
  private dropExpiredFront(now: number): void {
    for (const [id, interest] of this.entries) {
      if (interest.expiresAt > now) return;
      this.entries.delete(id);
    }
  }

  private prune(now: number): void {
    for (const [id, interest] of this.entries) if (interest.expiresAt <= now) this.entries.delete(id);
  }
}
