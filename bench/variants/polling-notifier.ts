import type { PendingRegistry } from '../../src/exchange/pending-registry';
import type { ReplyNotifier, ReplyNotifierHandlers } from '../../src/exchange/reply-notifier';
import type { ReplyStore } from '../../src/exchange/reply-store';

/**
 * The "seed 001" wake-up, for comparison only: every `intervalMs` the originating replica asks
 * Redis for the reply of each request it still has parked (one `GET` per parked request per tick,
 * as a per-request poll loop does), and delivers what it finds. No subscription, no notification.
 */
export class PollingNotifier implements ReplyNotifier {
  private timer: NodeJS.Timeout | undefined;
  private instancePrefix = '';
  private running = false;

  constructor(
    private readonly store: ReplyStore,
    private readonly registry: PendingRegistry,
    private readonly intervalMs: number,
  ) {}

  get live(): boolean {
    return this.running;
  }

  async start(instanceId: string, _handlers: ReplyNotifierHandlers): Promise<void> {
    this.instancePrefix = `${instanceId}.`;
    this.running = true;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  private tick(): void {
    for (const id of this.registry.ids()) {
      if (!id.startsWith(this.instancePrefix)) continue;
      this.store.readReply(id).then(
        (raw) => {
          if (raw !== null) this.registry.deliver(id, raw);
        },
        () => undefined,
      );
    }
  }

  // Foreign ids (idempotent retries) are polled like our own: ids() covers every parked id.
  async watch(_correlationId: string): Promise<void> {}

  unwatch(_correlationId: string): void {}

  async close(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
  }
}
