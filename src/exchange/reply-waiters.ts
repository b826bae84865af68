import type { Logger } from 'pino';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import { parseStoredId } from '../protocol/reply-keys';
import type { GatherRegistry } from './gather-registry';
import type { PendingRegistry } from './pending-registry';
import type { ReplyNotifierHandlers } from './reply-notifier';
import type { ReplyStore } from './reply-store';
import type { StreamRegistry } from './stream-registry';

/**
 * Delays between attempts of a resync read that failed (the command connection was reconnecting);
 * the last one repeats for as long as a request of the chunk is still pending.
 */
const RESYNC_RETRY_MS = [100, 250, 500, 1000] as const;

/** What a {@link ReplyWaiters} wakes, and where it re-reads from. */
export interface ReplyWaitersParts {
  registry: PendingRegistry;
  streams: StreamRegistry;
  gathers: GatherRegistry;
  store: ReplyStore;
  metrics: GatewayMetrics;
  log: Logger;
  /** Takes a notification that is not a reply (the keyspace watch's canary): true = taken. */
  claim?: (storedId: string) => boolean;
  /** Role `all`: true when this whole reply was already delivered in-process (local wake). */
  consumedLocally?: (storedId: string) => boolean;
  /** Delays between failed resync reads (tests). @defaultValue {@link RESYNC_RETRY_MS} */
  resyncRetryMs?: readonly number[];
}

/**
 * The wake path's dispatch: a notifier announces a stored reply id, this hands it to whoever waits
 * for it (a parked request, a stream, a gather). Notifier → exchange → answer, without passing
 * through the replica's composition root.
 *
 * @example
 * await notifier.start(instanceId, new ReplyWaiters({ registry, streams, gathers, store, metrics, log }));
 */
export class ReplyWaiters implements ReplyNotifierHandlers {
  constructor(private readonly parts: ReplyWaitersParts) {}

  onReplyStored(storedId: string): void {
    const { registry, streams, gathers, metrics, claim, consumedLocally } = this.parts;
    if (claim?.(storedId) === true) return;
    const stored = parseStoredId(storedId);
    if (stored.kind !== 'reply') {
      const waited =
        stored.kind === 'gathered'
          ? gathers.notify(stored.correlationId, stored.suffix)
          : streams.notify(stored.correlationId, stored.seq);
      if (!waited) metrics.lateReplies.inc();
      return;
    }
    if (consumedLocally?.(storedId) !== true) registry.notify(storedId);
  }

  onResync(): void {
    void this.resync();
  }

  /**
   * Re-read every pending reply after the notification channel came back: notifications sent
   * while it was down are gone, the replies are not.
   */
  async resync(): Promise<void> {
    const { registry, streams, store, log, resyncRetryMs = RESYNC_RETRY_MS } = this.parts;
    streams.resync();
    const ids = registry.ids();
    for (let i = 0; i < ids.length; i += 500) {
      let chunk = ids.slice(i, i + 500);
      // The command connection may be reconnecting too (the same outage dropped it, and its
      // back-off is its own): retry until it answers or none of the chunk is pending any more, as
      // a reply found here is one whose notification is gone for good. Giving up after ~2 s left
      // requests of a Redis restart to their deadline read (fault scenario 4: 52 answered at 3 s).
      for (let attempt = 0; chunk.length > 0; attempt++) {
        try {
          const values = await store.readReplies(chunk);
          values.forEach((raw, j) => {
            if (raw !== null) registry.deliver(chunk[j] as string, raw);
          });
          if (attempt > 0) log.info({ attempts: attempt + 1 }, 'resync read succeeded after retries');
          break;
        } catch (err) {
          if (attempt === 0) log.warn({ err }, 'resync read failed; retrying while its requests are pending');
          await new Promise((r) => setTimeout(r, resyncRetryMs[Math.min(attempt, resyncRetryMs.length - 1)]));
          chunk = chunk.filter((id) => registry.has(id));
        }
      }
    }
  }
}
