import type { RedisClient } from './redis-connections';
import type { Logger } from '../observability/logger';
import {
  applyKeyspaceNotifications,
  notificationsCoverSet,
  readNotifyKeyspaceEvents,
} from './redis-notifications-check';
import { ReplyKeys } from '../protocol/reply-keys';
import { masterReady, oneIdPerMaster } from './cluster-topology';
import { isCluster } from './redis-connections';
import { masterConnections } from './redis-masters';

/**
 * Suffix of the canary's correlation id. `~` is not base64url, so no real correlation id
 * (`<instanceId>.<22 base64url chars>`) can ever equal it.
 */
const CANARY_SUFFIX = '~canary';

/** Settings and collaborators of a {@link KeyspaceNotificationWatch}. */
export interface KeyspaceNotificationWatchOptions {
  /** The command connection (never the subscriber: a subscribed connection cannot SET). */
  redis: RedisClient;
  /** REPLYGATE_KEY_PREFIX. */
  keyPrefix: string;
  /** This replica's instance id: the canary must match this replica's own subscription pattern. */
  instanceId: string;
  /** How often a canary is written; the previous one must have been notified by then. */
  intervalMs: number;
  /** REPLYGATE_REDIS_CHECK: also read `notify-keyspace-events` each round (needs CONFIG). */
  checkConfig: boolean;
  /** REPLYGATE_REDIS_CONFIGURE: put the missing flags back when the setting lost them. */
  configure: boolean;
  /** Whether the subscriber connection is up; a lost subscription is reported by the notifier itself. */
  subscriptionLive: () => boolean;
  /** Called on every change of {@link KeyspaceNotificationWatch.flowing}. */
  onChange: (flowing: boolean) => void;
  log: Logger;
}

/**
 * Notices at run time that Redis stopped publishing the keyspace notifications replicas wake on
 * (`CONFIG SET notify-keyspace-events ""`, a failover to a replica configured without them, a
 * managed-Redis parameter change). Without it a replica looks ready while every request waits its
 * full timeout and is answered only by the deadline read.
 *
 * Every `intervalMs` it writes a canary reply key, `<prefix>reply:<instanceId>.~canary`, with a
 * short TTL: the replica's own keyspace subscription must deliver its `set` event before the next
 * round. This works where CONFIG is forbidden (managed Redis). Where it is allowed
 * (REPLYGATE_REDIS_CHECK), each round also reads the setting, which names the cause at once, and
 * with REPLYGATE_REDIS_CONFIGURE puts the flags back.
 */
export class KeyspaceNotificationWatch {
  private timer: NodeJS.Timeout | undefined;
  private ok = true;
  /** Canaries written whose notifications have not arrived yet (one per master on a cluster). */
  private readonly awaiting = new Set<string>();
  private running = false;
  private seq = 0;
  /** The last CONFIG GET showed the flags missing (and they were not put back). */
  private configBad = false;
  /** On a cluster, the master each canary id was written to. */
  private canaryMaster = new Map<string, string>();
  /** On a cluster, the master whose flags the last CONFIG GET found missing. */
  private badMaster: string | undefined;

  constructor(private readonly options: KeyspaceNotificationWatchOptions) {}

  /** Whether notifications arrived in the last round (true until a round proves otherwise). */
  get flowing(): boolean {
    return this.ok;
  }

  /** The correlation id the canary is stored under; {@link claim} recognises it. */
  get canaryId(): string {
    return `${this.options.instanceId}.${CANARY_SUFFIX}`;
  }

  /**
   * The canaries of one round: one on a single Redis; on a cluster one per master (`<canaryId>-<n>`,
   * `n` picked so the key's slot is that master's), since each master publishes only its own keys'
   * notifications and each subscription must be proven.
   */
  private canaryIds(): string[] {
    const { redis, keyPrefix } = this.options;
    if (!isCluster(redis)) return [this.canaryId];
    const keys = new ReplyKeys(keyPrefix);
    const byMaster = oneIdPerMaster(
      redis,
      (n) => `${this.canaryId}-${n}`,
      (id) => keys.reply(id),
    );
    this.canaryMaster = new Map([...byMaster].map(([master, id]) => [id, master]));
    // A master that is down is the failover's business (the notifier resyncs after it): its
    // canary would only hang until then and refuse every request meanwhile.
    return [...byMaster].filter(([master]) => masterReady(redis, master)).map(([, id]) => id);
  }

  /** Forget the canaries of masters that went down since they were written (cluster only). */
  private dropCanariesOfDownMasters(): void {
    const { redis } = this.options;
    if (!isCluster(redis)) return;
    for (const id of this.awaiting) {
      const master = this.canaryMaster.get(id);
      if (master === undefined || !masterReady(redis, master)) this.awaiting.delete(id);
    }
  }

  /**
   * Called for every notified correlation id before it reaches the pending registry: returns true
   * (and records the arrival) for the canary, so it is never taken for a late reply.
   */
  claim(correlationId: string): boolean {
    if (correlationId !== this.canaryId && !correlationId.startsWith(`${this.canaryId}-`)) return false;
    this.awaiting.delete(correlationId);
    // A canary written before the setting was lost can still arrive; it proves nothing then.
    if (!this.ok && !this.configBad && this.awaiting.size === 0) this.setFlowing(true, {});
    return true;
  }

  /** Start the rounds; the first canary goes out at once. */
  start(): void {
    this.timer = setInterval(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: judge the previous canary, read (and maybe repair) the setting, write the next canary. */
  async check(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.round();
    } finally {
      this.running = false;
    }
  }

  private async round(): Promise<void> {
    const { redis, subscriptionLive } = this.options;
    if (redis.status !== 'ready' || !subscriptionLive()) {
      // The readiness checks for Redis and the subscription already report this; a canary written
      // now would only be missed for the same reason.
      this.awaiting.clear();
      return;
    }
    // A round trip on the command connection first (CONFIG GET or PING): by the time it answers,
    // a notification Redis published for the previous canary has had an I/O phase to be read, so
    // an event loop stalled past the interval is not taken for lost notifications.
    const flags = await this.readFlags();
    this.dropCanariesOfDownMasters();
    if (this.awaiting.size > 0) this.setFlowing(false, { flags, missed: [...this.awaiting] });
    this.configBad = flags !== undefined && !notificationsCoverSet(flags);
    if (this.configBad) {
      this.setFlowing(false, { flags });
      if (this.options.configure) this.configBad = !(await this.reapply(flags!));
    }
    this.awaiting.clear();
    const ttlMs = Math.max(1000, this.options.intervalMs * 2);
    const keys = new ReplyKeys(this.options.keyPrefix);
    const seq = String(++this.seq);
    for (const id of this.canaryIds()) {
      this.awaiting.add(id);
      // Not awaited: a write a cluster holds back (its master failing over) must not stall the rounds.
      redis.set(keys.reply(id), seq, 'PX', ttlMs).catch((err: unknown) => {
        this.awaiting.delete(id);
        this.options.log.debug({ err, canary: id }, 'could not write the notification canary');
      });
    }
  }

  /**
   * `notify-keyspace-events` (on a cluster: of the first master that lacks K$, else of the first
   * master), or `undefined` when not checked or CONFIG is refused.
   */
  private async readFlags(): Promise<string | undefined> {
    if (this.options.checkConfig) {
      try {
        let first: string | undefined;
        for (const [address, node] of masterConnections(this.options.redis)) {
          const flags = await readNotifyKeyspaceEvents(node);
          if (!notificationsCoverSet(flags)) {
            this.badMaster = address;
            return flags;
          }
          first ??= flags;
        }
        this.badMaster = undefined;
        return first;
      } catch {
        // CONFIG refused (managed Redis): the canary alone decides.
      }
    }
    await this.options.redis.ping().catch(() => undefined);
    return undefined;
  }

  /** Put the missing flags back (on every master that lost them); true when Redis took them. */
  private async reapply(flags: string): Promise<boolean> {
    try {
      let to = flags;
      for (const [address, node] of masterConnections(this.options.redis)) {
        const current = address === this.badMaster ? flags : await readNotifyKeyspaceEvents(node);
        if (!notificationsCoverSet(current)) to = await applyKeyspaceNotifications(node, current);
      }
      this.options.log.warn(
        { from: flags, to, master: this.badMaster },
        'put Redis notify-keyspace-events back (--redis-configure)',
      );
      return true;
    } catch (err) {
      this.options.log.error({ err }, 'could not set Redis notify-keyspace-events back');
      return false;
    }
  }

  private setFlowing(flowing: boolean, context: { flags?: string | undefined; missed?: string[] }): void {
    if (flowing === this.ok) return;
    this.ok = flowing;
    const { log, intervalMs } = this.options;
    if (flowing) {
      log.info('Redis keyspace notifications arrive again; ready');
    } else {
      log.warn(
        { notifyKeyspaceEvents: context.flags, intervalMs, master: this.badMaster, missedCanaries: context.missed },
        context.flags !== undefined && !notificationsCoverSet(context.flags)
          ? 'Redis notify-keyspace-events lost K$: replies no longer wake requests; /readyz 503 and new requests refused until it is set again'
          : 'Redis keyspace notifications stopped arriving (canary not notified): /readyz 503 and new requests refused until they flow again',
      );
    }
    this.options.onChange(flowing);
  }
}
