import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger';
import type { ReplyNotifier, ReplyNotifierHandlers } from '../exchange/reply-notifier';
import { ReplyKeys } from '../protocol/reply-keys';

/**
 * Keyspace-notification wake-up: one pattern subscription per replica covering only its own keys,
 * `__keyspace@<db>__:<prefix>reply:<instanceId>.*`. Runs on a dedicated connection (a subscribed
 * connection cannot run other commands). Re-subscribes itself after a reconnect and then asks the
 * owner to resync, because Redis does not queue notifications for absent subscribers.
 */
export class RedisKeyspaceNotifier implements ReplyNotifier {
  private handlers: ReplyNotifierHandlers | undefined;
  private pattern = '';
  private channelPrefix = '';
  private subscribed = false;
  private closing = false;
  private readonly watched = new Map<string, number>();

  constructor(
    private readonly subscriber: Redis,
    private readonly keyPrefix: string,
    private readonly log: Logger,
  ) {}

  get live(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  async start(instanceId: string, handlers: ReplyNotifierHandlers): Promise<void> {
    this.handlers = handlers;
    const db = this.subscriber.options.db ?? 0;
    const keys = new ReplyKeys(this.keyPrefix);
    this.channelPrefix = keys.keyspaceChannelPrefix(db);
    this.pattern = keys.keyspacePattern(db, instanceId);
    this.subscriber.on('pmessage', (_pattern: string, channel: string, event: string) => {
      if (event !== 'set' || !channel.startsWith(this.channelPrefix)) return;
      this.handlers?.onReplyStored(channel.slice(this.channelPrefix.length));
    });
    this.subscriber.on('message', (channel: string, event: string) => {
      if (event !== 'set' || !channel.startsWith(this.channelPrefix)) return;
      this.handlers?.onReplyStored(channel.slice(this.channelPrefix.length));
    });
    if (this.subscriber.status !== 'ready') {
      await new Promise<void>((resolve, reject) => {
        const onReady = (): void => {
          this.subscriber.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.subscriber.off('ready', onReady);
          reject(err);
        };
        this.subscriber.once('ready', onReady);
        this.subscriber.once('error', onError);
      });
    }
    await this.subscribe();
    // Listeners for later reconnects are attached only now, so the first 'ready' is not a resync.
    this.subscriber.on('close', () => {
      if (this.subscribed) this.log.warn('keyspace subscription lost; will resync on reconnect');
      this.subscribed = false;
    });
    this.subscriber.on('ready', () => {
      if (this.closing || this.subscribed) return;
      // ioredis' autoResubscribe is off: re-subscribe here so the resync happens strictly after the
      // subscription is back, leaving no window in which a reply could land unseen.
      this.subscribe()
        .then(() => {
          this.log.info({ pattern: this.pattern }, 'keyspace subscription restored; resyncing pending requests');
          this.handlers?.onResync();
        })
        .catch((err: unknown) => this.log.error({ err }, 'keyspace re-subscribe failed'));
    });
  }

  private async subscribe(): Promise<void> {
    await this.subscriber.psubscribe(this.pattern);
    if (this.watched.size > 0) {
      await this.subscriber.subscribe(...[...this.watched.keys()].map((id) => this.channelPrefix + id));
    }
    this.subscribed = true;
  }

  async watch(correlationId: string): Promise<void> {
    const count = this.watched.get(correlationId) ?? 0;
    this.watched.set(correlationId, count + 1);
    if (count === 0) await this.subscriber.subscribe(this.channelPrefix + correlationId);
  }

  unwatch(correlationId: string): void {
    const count = this.watched.get(correlationId) ?? 0;
    if (count > 1) {
      this.watched.set(correlationId, count - 1);
      return;
    }
    this.watched.delete(correlationId);
    if (this.subscriber.status === 'ready') {
      this.subscriber.unsubscribe(this.channelPrefix + correlationId).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    this.subscribed = false;
    this.subscriber.disconnect();
  }
}
