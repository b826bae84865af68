import { ReplyWaiters } from '../exchange/reply-waiters';
import type { Redis } from 'ioredis';
import type { EventAwaitPublisher } from '../exchange/event-await-publisher';
import type { ReplyNotifier } from '../exchange/reply-notifier';
import type { LocalWakeReplyStore } from '../exchange/local-wake-store';
import type { PendingRegistry } from '../exchange/pending-registry';
import type { ReplyStore } from '../exchange/reply-store';
import type { WebSocketGateway } from '../ingress/ws/ws-gateway';
import { KafkaRequestPublisher } from '../kafka/kafka-request-publisher';
import type { ReplyPartitionHint } from '../kafka/request-message';
import type { Logger } from '../observability/logger';
import { KeyspaceNotificationWatch } from '../redis/keyspace-notification-watch';
import { RedisKeyspaceNotifier } from '../redis/redis-keyspace-notifier';
import { ensureKeyspaceNotifications } from '../redis/redis-notifications-check';
import { ClusterKeyspaceNotifier } from '../redis/cluster-keyspace-notifier';
import { connectWithin, isCluster } from '../redis/redis-connections';
import { masterAt, onEveryMaster } from '../redis/redis-masters';
import type { ReplicaContext } from './replica-context';

/** The admission blocker's reason while the Redis connection is not ready. */
const REDIS_UNREACHABLE = 'Redis is unreachable';

/** What a replacement {@link ReplyNotifier} may use (see `GatewayServerOptions.createNotifier`). */
export interface NotifierParts {
  store: ReplyStore;
  registry: PendingRegistry;
  log: Logger;
}

/** How an {@link HttpRole} is built beyond the shared context. */
export interface HttpRoleOptions {
  /** Replace the keyspace-notification wake-up (benchmarks only). */
  createNotifier?: (parts: NotifierParts) => ReplyNotifier;
  /** Role `all`: the relay's in-process wake, so a notification for a reply already delivered is skipped. */
  localWake?: LocalWakeReplyStore;
  /** Role `all`: whether this replica's own relay is in its group (admission waits for it). */
  relayReady?: () => boolean;
  /** Role `all`: the reply partitions requests name, ones its own relay reads (REPLYGATE_REPLY_PARTITION_HINT). */
  replyPartition?: ReplyPartitionHint;
}

/**
 * The `http` role: accepts requests, publishes them to Kafka and wakes them when their reply is
 * stored (subscriber connection, notifier, notification watch, producer). Its endpoints are built
 * by `createHttpEndpoints`; its lifecycle steps are called by `GatewayServer` in order.
 */
export class HttpRole {
  readonly publisher: KafkaRequestPublisher;
  readonly notifier: ReplyNotifier;
  readonly waiters: ReplyWaiters;
  /** `/v1/ws` (REPLYGATE_WS_ENABLED), set by the endpoints. */
  ws: WebSocketGateway | undefined;
  /** Registers event waiters before publishing (routes with `await`), set by the endpoints. */
  eventWaiters: EventAwaitPublisher | undefined;
  /** The subscriber of a single Redis (unset on a cluster: one per master, held by the notifier). */
  private subscriber: Redis | undefined;
  private connectTimeoutMs = 30_000;
  /** Requests waiting in {@link admissionRecovery} now. */
  private waitingForRedis = 0;
  /** Their shared wait for the connection's next `ready` ({@link nextRedisReady}). */
  private redisReadyWait: Promise<void> | undefined;
  /** Proves at run time that keyspace notifications still arrive (REPLYGATE_NOTIFY_CHECK_INTERVAL_MS). */
  private notificationWatch: KeyspaceNotificationWatch | undefined;

  constructor(
    private readonly ctx: ReplicaContext,
    private readonly options: HttpRoleOptions = {},
  ) {
    const { config, log, store, registry, readiness } = ctx;
    if (ctx.routes === undefined) throw new Error(`routes are required for role ${config.role}`);
    const notifierLog = log.child({ component: 'notifier' });
    this.notifier =
      options.createNotifier?.({ store, registry, log: notifierLog }) ?? this.keyspaceNotifier(notifierLog);
    this.publisher = new KafkaRequestPublisher(
      ctx.kafka,
      log.child({ component: 'publisher' }),
      {
        mode: config.producerBatching,
        lingerMs: config.producerLingerMs,
        maxInFlight: config.producerMaxInFlight,
      },
      options.replyPartition,
    );
    const { notifier, publisher } = this;
    readiness.add({ name: 'subscription', ready: () => notifier.live });
    readiness.add({ name: 'notifications', ready: () => this.notificationWatch?.flowing !== false });
    readiness.add({ name: 'producer', ready: () => publisher.connected });
    this.waiters = new ReplyWaiters({
      registry,
      streams: ctx.streams,
      gathers: ctx.gathers,
      store,
      metrics: ctx.metrics,
      log,
      claim: (id) => this.notificationWatch?.claim(id) === true,
      consumedLocally: (id) => options.localWake?.consumeLocalWake(id) === true,
    });
  }

  /** Subscribe to reply notifications (checking the Redis setting first) and start proving they arrive. */
  async startWake(timeoutMs: number): Promise<void> {
    const { config, redis, log } = this.ctx;
    if (config.redisCheck) {
      await onEveryMaster(redis, (node) => ensureKeyspaceNotifications(node, config.redisConfigure, log));
    }
    this.connectTimeoutMs = timeoutMs;
    if (this.subscriber !== undefined) {
      await connectWithin(this.subscriber, timeoutMs, this.ctx.redisConnections.target, log);
    }
    await this.notifier.start(config.instanceId, this.waiters);
    this.watchNotifications();
  }

  /**
   * The built-in wake: one subscriber on a single Redis (standalone, or the primary Sentinel
   * elects), or one per master on a cluster ({@link ClusterKeyspaceNotifier}).
   */
  private keyspaceNotifier(log: Logger): ReplyNotifier {
    const { config, redis, redisConnections } = this.ctx;
    if (isCluster(redis)) {
      return new ClusterKeyspaceNotifier({
        cluster: redis,
        connections: redisConnections,
        keyPrefix: config.keyPrefix,
        connectTimeoutMs: () => this.connectTimeoutMs,
        // A master that appears later (failover, a node added) is checked like the first ones.
        onNewMaster: async (address) => {
          const node = masterAt(redis, address);
          if (config.redisCheck && node !== undefined) {
            await ensureKeyspaceNotifications(node, config.redisConfigure, log);
          }
        },
        log,
      });
    }
    this.subscriber = redisConnections.subscriber(`replygate:${config.instanceId}:sub`);
    this.subscriber.on('error', (err) => log.debug({ err }, 'redis subscriber error'));
    return new RedisKeyspaceNotifier(this.subscriber, config.keyPrefix, log);
  }

  startPublishing(): Promise<void> {
    return this.publisher.connect();
  }

  /** Re-read every pending reply (see {@link ReplyWaiters.resync}). */
  resync(): Promise<void> {
    return this.waiters.resync();
  }

  /**
   * Redis lost its data (a new run id): register again the event waiters of requests still parked
   * here, before the event relay re-reads the event topics (it waits a few seconds for this).
   * Streamed event waiters are not: their part numbers restart with Redis' counters, and the stream
   * ends at its deadline.
   */
  async restoreEventWaiters(): Promise<void> {
    const { registry, log } = this.ctx;
    await this.eventWaiters?.restore((id) => registry.has(id), log.child({ component: 'event-waiters' }));
  }

  /** Why a request must be refused now (503), or `undefined` to admit it. */
  admissionBlocker(): string | undefined {
    const { readiness, lifecycle, redis, kafkaProbe } = this.ctx;
    if (readiness.isDraining) return 'this replica is shutting down';
    if (!lifecycle.started) return 'this replica is starting';
    if (redis.status !== 'ready') return REDIS_UNREACHABLE;
    if (!kafkaProbe.reachable) return 'Kafka is unreachable';
    if (!this.notifier.live) return 'Redis keyspace subscription is down';
    // Role all: its own relay is out of the group (rebuilding after a crash). Requests admitted now
    // would wait for a relay that may not come back before their deadline; /readyz says 503 too.
    if (this.options.relayReady !== undefined && !this.options.relayReady())
      return "this replica's relay is down (recovering)";
    if (this.notificationWatch?.flowing === false) return 'Redis keyspace notifications are not arriving';
    return undefined;
  }

  /**
   * Before a request is refused because Redis is unreachable: if the connection is reconnecting
   * (a Sentinel or Cluster failover kills client connections, a Redis restart), wait up to
   * `REPLYGATE_REDIS_RECONNECT_GRACE_MS` for it, so a reconnect of a few hundred ms costs the
   * requests that arrive during it latency, not a 503. At most `REPLYGATE_MAX_PENDING` requests wait
   * at once (beyond that they are refused at once); a closed connection is not waited for.
   */
  async admissionRecovery(reason: string): Promise<void> {
    const { redis, config } = this.ctx;
    const graceMs = config.redisReconnectGraceMs;
    if (reason !== REDIS_UNREACHABLE || graceMs === 0 || redis.status === 'end') return;
    if (this.waitingForRedis >= config.maxPending) return;
    this.waitingForRedis += 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.nextRedisReady(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waitingForRedis -= 1;
    }
  }

  /**
   * Resolves when the Redis connection is next ready (or closed for good): one pair of listeners
   * shared by every waiting request, however many there are.
   */
  private nextRedisReady(): Promise<void> {
    const { redis } = this.ctx;
    this.redisReadyWait ??= new Promise<void>((resolve) => {
      const done = (): void => {
        redis.off('ready', done);
        redis.off('end', done);
        this.redisReadyWait = undefined;
        resolve();
      };
      redis.on('ready', done);
      redis.on('end', done);
    });
    return this.redisReadyWait;
  }

  closeWebSockets(): Promise<void> {
    return this.ws?.close() ?? Promise.resolve();
  }

  stopWatch(): void {
    this.notificationWatch?.stop();
  }

  /** Last of the role's stop steps: the producer, then the notifier. */
  async stopPublishingAndWake(): Promise<void> {
    await this.publisher.disconnect().catch((err: unknown) => this.ctx.log.warn({ err }, 'producer stop failed'));
    await this.notifier.close();
  }

  /**
   * Keep proving that keyspace notifications arrive (only with the built-in notifier: a replacement
   * does not wake on them). Once they flow again, re-read every pending reply, as after a lost
   * subscription: the notifications of the gap are gone.
   */
  private watchNotifications(): void {
    const { config, metrics, redis, log } = this.ctx;
    const notifier = this.notifier;
    metrics.notificationsFlowing.set(1);
    const builtIn = notifier instanceof RedisKeyspaceNotifier || notifier instanceof ClusterKeyspaceNotifier;
    if (config.notifyCheckIntervalMs === 0 || !builtIn) return;
    this.notificationWatch = new KeyspaceNotificationWatch({
      redis,
      keyPrefix: config.keyPrefix,
      instanceId: config.instanceId,
      intervalMs: config.notifyCheckIntervalMs,
      checkConfig: config.redisCheck,
      configure: config.redisConfigure,
      subscriptionLive: () => notifier.live,
      onChange: (flowing) => {
        metrics.notificationsFlowing.set(flowing ? 1 : 0);
        if (flowing) void this.resync();
      },
      log: log.child({ component: 'notification-watch' }),
    });
    this.notificationWatch.start();
  }
}
