import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/gateway-config';
import type { RouteDefinition } from '../config/routes-file';
import { PendingRegistry } from '../exchange/pending-registry';
import { RequestBroker } from '../exchange/request-broker';
import { createApp } from '../ingress/http/create-app';
import { createGatewayHandler } from '../ingress/http/gateway-handler';
import { createStoredReplyDecoder, replyHeaderLimits, type StoredReplyDecoder } from '../exchange/stored-reply-decoder';
import { createHttpServer } from '../ingress/http/create-http-server';
import { createFrameStages, createSecurityStages } from '../admission/admission-stages';
import { redisLimiters } from '../admission/route-limiters';
import type { Logger } from '../observability/logger';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { ReplyRelay } from '../relay/reply-relay';
import { RedisKeyspaceNotifier } from '../redis/redis-keyspace-notifier';
import { KeyspaceNotificationWatch } from '../redis/keyspace-notification-watch';
import type { ReplyNotifier } from '../exchange/reply-notifier';
import type { ReplyStore } from '../exchange/reply-store';
import { ensureKeyspaceNotifications } from '../redis/redis-notifications-check';
import { RedisReplyStore } from '../redis/redis-reply-store';
import { createKafka } from '../kafka/kafka-client';
import { KafkaRequestPublisher } from '../kafka/kafka-request-publisher';
import { assertKafkaReachable } from '../kafka/kafka-reachable';
import { listenError } from './listen-error';
import { LocalWakeReplyStore } from '../exchange/local-wake-store';
import { Readiness } from '../observability/readiness';
import { Liveness } from '../observability/liveness';
import { connectWithin, createCommandConnection, createSubscriberConnection } from '../redis/redis-connections';
import { ensureTopic } from '../kafka/ensure-topic';
import { redisRunId } from '../redis/redis-run-id';
import { KafkaProbe } from '../kafka/kafka-probe';
import { StreamRegistry } from '../exchange/stream-registry';
import { GatherRegistry } from '../exchange/gather-registry';
import type { Router } from 'express';
import { AsyncReplyRegistry } from '../exchange/async-reply-registry';
import { createRepliesRouter } from '../ingress/http/replies-router';
import { WatcherLimiter } from '../exchange/watcher-limiter';
import { parseStoredId } from '../protocol/reply-keys';
import { RedisIdempotencyStore } from '../exchange/idempotency-store';
import { RouteTable, type RouteReloadResult } from '../routing/route-table';
import { adminSettings } from '../ingress/admin/admin-settings';
import { createAdminRouter } from '../ingress/admin/admin-router';
import { GatewayObservability } from '../observability/gateway-observability';
import { createOpenApiRouter } from '../ingress/admin/openapi-router';
import { CallbackHookStore } from '../webhooks/callback-hook-store';
import { CallbackRegistrar } from '../webhooks/callback-registrar';
import { WebhookService } from '../webhooks/webhook-service';
import { WebSocketGateway } from '../ingress/ws/ws-gateway';

/** Delays between attempts of a resync read that failed (the command connection was reconnecting). */
const RESYNC_RETRY_MS = [100, 250, 500, 1000] as const;

/**
 * How long start-up tries to open a connection to a Kafka broker before it gives up naming
 * KAFKA_BROKERS: long enough for a broker that is starting alongside, short enough that a wrong
 * address is reported in seconds, not after kafkajs' retries.
 */
const KAFKA_STARTUP_REACH_MS = 5000;

/** The longest route timeout: an idempotency key must outlive the reply it points to. */
const MAX_ROUTE_TIMEOUT_MS = (routes: readonly RouteDefinition[]): number =>
  Math.max(0, ...routes.map((r) => r.timeoutMs));

/** Settings and collaborators of a {@link GatewayServer}. */
export interface GatewayServerOptions {
  config: GatewayConfig;
  /** Routes (required for the `all` and `http` roles). */
  routes?: RouteDefinition[];
  log: Logger;
  /** How long start-up waits for Redis and Kafka. @defaultValue 30000 */
  startupTimeoutMs?: number;
  /**
   * Replace the keyspace-notification wake-up with another {@link ReplyNotifier}. For benchmarks
   * (the polling comparison in `bench/`), not a product mode: no configuration setting reaches it.
   * @defaultValue a {@link RedisKeyspaceNotifier} on a dedicated subscriber connection
   */
  createNotifier?: (parts: NotifierParts) => ReplyNotifier;
  /**
   * Role `all` only: hand a reply the relay just stored to a request parked in this same process,
   * skipping the notification and the `GET` (see {@link LocalWakeReplyStore}). Off only to
   * measure what it saves (`bench/`). @defaultValue true
   */
  localWake?: boolean;
}

/** What a replacement {@link ReplyNotifier} may use (see {@link GatewayServerOptions.createNotifier}). */
export interface NotifierParts {
  store: ReplyStore;
  registry: PendingRegistry;
  log: Logger;
}

/**
 * One gateway replica: the composition root that wires the HTTP layer, the pending registry, the
 * Kafka publisher, the reply relay and the Redis store/notifier for the configured role.
 *
 * @example
 * const server = new GatewayServer({ config, routes, log });
 * await server.start();
 * process.on('SIGTERM', () => server.stop());
 */
export class GatewayServer {
  readonly metrics = new GatewayMetrics();
  readonly readiness = new Readiness();
  /** What `/healthz` checks: components that did not recover within REPLYGATE_RECOVERY_TIMEOUT_MS. */
  readonly liveness: Liveness;
  readonly registry: PendingRegistry;
  private readonly redis: Redis;
  private readonly subscriber: Redis | undefined;
  private readonly kafka: Kafka;
  private readonly store: RedisReplyStore;
  private readonly publisher: KafkaRequestPublisher | undefined;
  private readonly notifier: ReplyNotifier | undefined;
  /** Proves at run time that keyspace notifications still arrive (REPLYGATE_NOTIFY_CHECK_INTERVAL_MS). */
  private notificationWatch: KeyspaceNotificationWatch | undefined;
  private readonly relay: ReplyRelay | undefined;
  private readonly localWake: LocalWakeReplyStore | undefined;
  private httpServer: Server | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;
  private readonly kafkaProbe: KafkaProbe;
  /** Streamed replies (`stream: true` routes) waiting on this replica. */
  readonly streams: StreamRegistry;
  /** Scatter-gather requests (`gather` routes) waiting on this replica. */
  readonly gathers: GatherRegistry;
  /** Tracing, request logs, unread-reply and relay-lag metrics. */
  readonly observability: GatewayObservability;
  /** The routes in force, swapped by {@link reloadRoutes}. */
  private readonly routeTable: RouteTable | undefined;
  /** Callback delivery (BullMQ), in relay-capable roles whose routes configure callbacks. */
  private readonly webhooks: WebhookService | undefined;
  /** `/v1/ws` (REPLYGATE_WS_ENABLED). */
  private wsGateway: WebSocketGateway | undefined;
  /** Every path that answers a reply decodes it here: the configured header caps, drops counted. */
  private readonly replyDecoder: StoredReplyDecoder;

  constructor(private readonly options: GatewayServerOptions) {
    const { config } = options;
    this.log = options.log.child({ component: 'gateway', instanceId: config.instanceId, role: config.role });
    const serves = config.role !== 'relay';
    const relays = config.role !== 'http';
    this.liveness = new Liveness(config.recoveryTimeoutMs);
    this.redis = createCommandConnection(config.redisUrl, `replygate:${config.instanceId}`);
    this.redis.on('error', (err) => this.log.debug({ err }, 'redis connection error'));
    this.store = new RedisReplyStore(this.redis, config.keyPrefix, config.replyTtlMs);
    this.replyDecoder = createStoredReplyDecoder({
      limits: replyHeaderLimits(config),
      metrics: this.metrics,
      log: this.log.child({ component: 'replies' }),
    });
    this.kafka = createKafka(config.kafkaBrokers, `${config.kafkaClientId}-${config.instanceId}`, this.log);
    this.observability = new GatewayObservability({
      config,
      kafka: this.kafka,
      metrics: this.metrics,
      log: this.log,
      relays,
    });
    if (options.routes !== undefined) {
      this.routeTable = new RouteTable(options.routes, {
        file: config.routesFile,
        defaults: config,
        log: this.log.child({ component: 'routes' }),
        onReload: (result) => this.metrics.routeReloads.inc({ result: result.ok ? 'ok' : 'refused' }),
      });
    }
    this.registry = new PendingRegistry((id) => this.store.readReply(id), {
      onLateReply: (correlationId) => {
        this.metrics.lateReplies.inc();
        this.observability.unread.lateReply(correlationId);
      },
      onAbandoned: (correlationId, reason) => this.observability.unread.abandon(correlationId, reason),
      onReadError: (correlationId, err) => {
        this.metrics.replyErrors.inc({ reason: 'read-failed' });
        this.log.warn({ err, correlationId }, 'could not read reply from Redis');
      },
    });
    this.metrics.pendingLimit.set(config.maxPending);
    this.readiness.add({ name: 'redis', ready: () => this.redis.status === 'ready' });
    this.streams = new StreamRegistry(this.store);
    this.gathers = new GatherRegistry(this.store);
    this.kafkaProbe = new KafkaProbe(this.kafka, config.replyTopic, this.log.child({ component: 'kafka-probe' }));
    this.readiness.add({ name: 'kafka', ready: () => this.kafkaProbe.reachable });
    if (serves) {
      if (options.routes === undefined) throw new Error(`routes are required for role ${config.role}`);
      this.subscriber = createSubscriberConnection(config.redisUrl, `replygate:${config.instanceId}:sub`);
      this.subscriber.on('error', (err) => this.log.debug({ err }, 'redis subscriber error'));
      const notifierLog = this.log.child({ component: 'notifier' });
      this.notifier =
        options.createNotifier?.({ store: this.store, registry: this.registry, log: notifierLog }) ??
        new RedisKeyspaceNotifier(this.subscriber, config.keyPrefix, notifierLog);
      this.publisher = new KafkaRequestPublisher(this.kafka, this.log.child({ component: 'publisher' }), {
        mode: config.producerBatching,
        lingerMs: config.producerLingerMs,
        maxInFlight: config.producerMaxInFlight,
      });
      const notifier = this.notifier;
      const publisher = this.publisher;
      this.readiness.add({ name: 'subscription', ready: () => notifier.live });
      this.readiness.add({ name: 'notifications', ready: () => this.notificationWatch?.flowing !== false });
      this.readiness.add({ name: 'producer', ready: () => publisher.connected });
    }
    if (relays && options.routes?.some((r) => r.callbacks !== undefined) === true) {
      this.webhooks = new WebhookService({
        redisUrl: config.redisUrl,
        keyPrefix: config.keyPrefix,
        instanceId: config.instanceId,
        hooks: this.callbackHooks(),
        secretOf: (name) => this.routeTable?.routes.find((r) => r.name === name)?.callbacks?.secret,
        concurrency: config.webhookConcurrency,
        timeoutMs: config.webhookTimeoutMs,
        retentionSec: config.webhookRetentionSec,
        evictionCheck: config.webhookEvictionCheck,
        replyDecoder: this.replyDecoder,
        log: this.log,
      });
      const webhooks = this.webhooks;
      this.readiness.add({ name: 'webhooks', ready: () => webhooks.ready });
    }
    if (relays) {
      // Role `all`: replies for this replica's own requests wake them in-process after the write.
      if (serves && options.localWake !== false) this.localWake = new LocalWakeReplyStore(this.store, this.registry);
      this.relay = new ReplyRelay(
        this.kafka,
        this.localWake ?? this.store,
        {
          replyTopic: config.replyTopic,
          groupId: config.relayGroupId,
          maxReplyBytes: config.maxReplyBytes,
          sessionTimeoutMs: config.relaySessionTimeoutMs,
          commitIntervalMs: config.relayCommitIntervalMs,
          afterWrite: this.webhooks?.afterWrite,
        },
        this.metrics,
        this.log.child({ component: 'relay' }),
      );
      const relay = this.relay;
      this.readiness.add({ name: 'relay', ready: () => relay.ready });
      this.liveness.add({ name: 'relay', downForMs: () => (this.started ? relay.downForMs : 0) });
    }
  }

  /** Webhook hooks live as long as the async record they belong to. */
  private callbackHooks(): CallbackHookStore {
    const routes = this.options.routes ?? [];
    const { keyPrefix, replyTtlMs } = this.options.config;
    return new CallbackHookStore(this.redis, keyPrefix, replyTtlMs + MAX_ROUTE_TIMEOUT_MS(routes));
  }

  /** The port the HTTP server listens on (after {@link start}). */
  get port(): number {
    return (this.httpServer?.address() as AddressInfo | null)?.port ?? 0;
  }

  get instanceId(): string {
    return this.options.config.instanceId;
  }

  /**
   * Start serving: HTTP first (so `/healthz` answers and `/readyz` says 503 while starting), then
   * Redis, the keyspace subscription, Kafka. Ready only once every part can really carry a reply.
   */
  async start(): Promise<void> {
    const { config } = this.options;
    const timeoutMs = this.options.startupTimeoutMs ?? 30_000;
    await this.listen();
    // Both at once: a dead Kafka is named within seconds even while Redis is still being waited for.
    await Promise.all([
      connectWithin(this.redis, timeoutMs, config.redisUrl, this.log),
      assertKafkaReachable(config.kafkaBrokers, Math.min(timeoutMs, KAFKA_STARTUP_REACH_MS)),
    ]);
    this.watchRedisRestarts(await redisRunId(this.redis));
    if (this.notifier !== undefined && this.subscriber !== undefined) {
      if (config.redisCheck) await ensureKeyspaceNotifications(this.redis, config.redisConfigure, this.log);
      await connectWithin(this.subscriber, timeoutMs, config.redisUrl, this.log);
      await this.notifier.start(config.instanceId, {
        onReplyStored: (id) => {
          if (this.notificationWatch?.claim(id) === true) return;
          const stored = parseStoredId(id);
          if (stored.kind !== 'reply') {
            const waited =
              stored.kind === 'gathered'
                ? this.gathers.notify(stored.correlationId, stored.suffix)
                : this.streams.notify(stored.correlationId, stored.seq);
            if (!waited) this.metrics.lateReplies.inc();
            return;
          }
          if (this.localWake?.consumeLocalWake(id) !== true) this.registry.notify(id);
        },
        onResync: () => void this.resync(),
      });
      this.watchNotifications();
    }
    await ensureTopic(this.kafka, config.replyTopic, config.replyTopicPartitions, this.log);
    if (this.publisher !== undefined) await this.publisher.connect();
    // Before the relay: its first batch may already carry replies with callbacks.
    await this.webhooks?.start();
    if (this.relay !== undefined) await this.relay.start();
    this.kafkaProbe.start();
    await this.observability.start();
    if (config.routesWatch) this.routeTable?.watch();
    this.started = true;
    this.readiness.markStarted();
    this.log.info({ port: this.port }, 'replygate replica ready');
  }

  /**
   * Re-read every pending reply after the notification channel came back: notifications sent
   * while it was down are gone, the replies are not.
   */
  async resync(): Promise<void> {
    this.streams.resync();
    const ids = this.registry.ids();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      // The command connection may be reconnecting too (the same outage dropped it): retry, as a
      // reply found here is one whose notification is gone for good.
      for (let attempt = 0; ; attempt++) {
        try {
          const values = await this.store.readReplies(chunk);
          values.forEach((raw, j) => {
            if (raw !== null) this.registry.deliver(chunk[j] as string, raw);
          });
          break;
        } catch (err) {
          if (attempt >= RESYNC_RETRY_MS.length) {
            this.log.warn({ err }, 'resync read failed; pending requests fall back to their deadline read');
            break;
          }
          await new Promise((r) => setTimeout(r, RESYNC_RETRY_MS[attempt]));
        }
      }
    }
  }

  /**
   * Re-read the routes file (SIGHUP, `POST /admin/reload`, REPLYGATE_ROUTES_WATCH): swap to the new
   * routes if the whole file is valid, else keep the current ones and log the issues. Requests in
   * flight keep the route they matched.
   */
  reloadRoutes(): RouteReloadResult {
    if (this.routeTable === undefined) {
      return { ok: false, file: undefined, issues: [`role ${this.options.config.role} serves no routes`] };
    }
    return this.routeTable.reload();
  }

  /**
   * Graceful stop: turn `/readyz` to 503 and refuse new requests, give in-flight requests up to
   * REPLYGATE_SHUTDOWN_GRACE_MS, then close HTTP, leave the relay group and close connections.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.readiness.markDraining();
    // Tell keep-alive clients to stop reusing their connection: a request sent on a socket the
    // server is about to close would be dropped instead of refused (and retried elsewhere).
    this.httpServer?.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('connection', 'close');
    });
    const deadline = Date.now() + this.options.config.shutdownGraceMs;
    while (this.registry.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.registry.cancelAll('shutdown');
    await this.wsGateway?.close();
    await this.closeHttp();
    await this.kafkaProbe.stop();
    this.notificationWatch?.stop();
    this.routeTable?.close();
    await this.observability.stop();
    await this.relay?.stop().catch((err: unknown) => this.log.warn({ err }, 'relay stop failed'));
    await this.webhooks?.stop();
    await this.publisher?.disconnect().catch((err: unknown) => this.log.warn({ err }, 'producer stop failed'));
    await this.notifier?.close();
    this.redis.disconnect();
    this.log.info('replygate replica stopped');
  }

  /**
   * A Redis that comes back with another run id has restarted and, without persistence, lost the
   * replies it held. Waiters resync on their own (the notifier re-subscribes and re-reads); what
   * is gone must be written again, so the relay re-reads the last REPLYGATE_REPLY_TTL_MS of replies.
   */
  private watchRedisRestarts(initialRunId: string | undefined): void {
    let runId = initialRunId;
    this.redis.on('ready', () => {
      void redisRunId(this.redis).then((now) => {
        if (now === undefined || now === runId) return;
        this.log.warn({ before: runId, now }, 'Redis restarted (run_id changed); replies it held may be lost');
        runId = now;
        this.relay
          ?.rewind(this.kafka, this.options.config.replyTtlMs)
          .catch((err: unknown) => this.log.error({ err }, 'relay rewind after Redis restart failed'));
      });
    });
  }

  /**
   * Keep proving that keyspace notifications arrive (only with the built-in notifier: a replacement
   * does not wake on them). Once they flow again, re-read every pending reply, as after a lost
   * subscription: the notifications of the gap are gone.
   */
  private watchNotifications(): void {
    const { config } = this.options;
    const notifier = this.notifier;
    this.metrics.notificationsFlowing.set(1);
    if (config.notifyCheckIntervalMs === 0 || !(notifier instanceof RedisKeyspaceNotifier)) return;
    this.notificationWatch = new KeyspaceNotificationWatch({
      redis: this.redis,
      keyPrefix: config.keyPrefix,
      instanceId: config.instanceId,
      intervalMs: config.notifyCheckIntervalMs,
      checkConfig: config.redisCheck,
      configure: config.redisConfigure,
      subscriptionLive: () => notifier.live,
      onChange: (flowing) => {
        this.metrics.notificationsFlowing.set(flowing ? 1 : 0);
        if (flowing) void this.resync();
      },
      log: this.log.child({ component: 'notification-watch' }),
    });
    this.notificationWatch.start();
  }

  private admissionBlocker(): string | undefined {
    if (this.readiness.isDraining) return 'this replica is shutting down';
    if (!this.started) return 'this replica is starting';
    if (this.redis.status !== 'ready') return 'Redis is unreachable';
    if (!this.kafkaProbe.reachable) return 'Kafka is unreachable';
    if (this.notifier !== undefined && !this.notifier.live) return 'Redis keyspace subscription is down';
    // Role all: its own relay is out of the group (rebuilding after a crash). Requests admitted now
    // would wait for a relay that may not come back before their deadline; /readyz says 503 too.
    if (this.relay !== undefined && !this.relay.ready) return "this replica's relay is down (recovering)";
    if (this.notificationWatch?.flowing === false) return 'Redis keyspace notifications are not arriving';
    return undefined;
  }

  private listen(): Promise<void> {
    const { config, routes } = this.options;
    let gatewayHandler;
    const routers: Router[] = [];
    routers.push(
      createAdminRouter({
        token: config.adminToken,
        routes: () => this.routeTable?.routes ?? [],
        pending: () => ({
          total: this.registry.size,
          limit: config.maxPending,
          byRoute: this.registry.countsByRoute(),
        }),
        settings: () => adminSettings(config),
        reload: () => this.reloadRoutes(),
      }),
    );
    if (this.publisher !== undefined && routes !== undefined) {
      const table = this.routeTable!;
      routers.push(createOpenApiRouter(() => table.routes));
      const broker = new RequestBroker(
        this.observability.wrapPublisher(this.publisher),
        this.registry,
        this.metrics,
        this.log,
        this.notifier,
        config.instanceId,
      );
      const asyncReplies = new AsyncReplyRegistry(
        this.redis,
        config.keyPrefix,
        config.replyTtlMs + MAX_ROUTE_TIMEOUT_MS(routes),
      );
      // Authentication and rate limits, built once for HTTP requests and WebSocket frames alike.
      const security = { settings: config, routes, createLimiter: redisLimiters(this.redis, config.keyPrefix) };
      const frameStages = createFrameStages(security);
      if (config.wsEnabled) {
        this.wsGateway = new WebSocketGateway({
          instanceId: config.instanceId,
          replyTopic: config.replyTopic,
          matcher: () => table.matcher,
          broker,
          registry: this.registry,
          metrics: this.metrics,
          log: this.log.child({ component: 'ws' }),
          replyDecoder: this.replyDecoder,
          admissionBlocker: () => this.admissionBlocker(),
          maxPending: config.maxPending,
          maxInFlight: config.wsMaxInFlight,
          maxBufferedBytes: config.wsMaxBufferedBytes,
          heartbeatMs: config.wsHeartbeatMs,
          stages: frameStages,
          // A JSON frame around the largest body any route accepts (reloads keep the first bound).
          maxFrameBytes: Math.max(config.maxBodyBytes, ...routes.map((r) => r.maxBodyBytes)) * 2 + 64 * 1024,
        });
      }
      const callbacks = new CallbackRegistrar(this.callbackHooks());
      routers.push(
        createRepliesRouter({
          registry: asyncReplies,
          store: this.store,
          broker,
          maxWaitMs: config.maxWaitMs,
          instanceId: config.instanceId,
          replyDecoder: this.replyDecoder,
          // Long-polls and SSE streams have their own bound, apart from REPLYGATE_MAX_PENDING.
          watchers: new WatcherLimiter(config),
          callbackState: (id) => callbacks.state(id),
        }),
      );
      gatewayHandler = createGatewayHandler({
        config,
        matcher: () => table.matcher,
        observe: this.observability.observe,
        broker,
        asyncReplies,
        streams: this.streams,
        gathers: this.gathers,
        callbacks,
        idempotency: new RedisIdempotencyStore(
          this.redis,
          config.keyPrefix,
          config.replyTtlMs + MAX_ROUTE_TIMEOUT_MS(routes),
        ),
        registry: this.registry,
        metrics: this.metrics,
        log: this.log,
        admissionBlocker: () => this.admissionBlocker(),
        stages: createSecurityStages(security, frameStages),
        replyDecoder: this.replyDecoder,
      });
    }
    const app = createApp({
      readiness: this.readiness,
      liveness: this.liveness,
      metrics: this.metrics,
      log: this.log,
      gatewayHandler,
      routers,
      instanceId: config.instanceId,
    });
    return new Promise((resolve, reject) => {
      // http or https (REPLYGATE_TLS_*), with the slow-client timeouts and REPLYGATE_TRUST_PROXY applied.
      const server = createHttpServer(app, config, this.metrics);
      server.on('error', (err) => reject(listenError(err, config.host, config.port)));
      server.listen(config.port, config.host, () => resolve());
      server.keepAliveTimeout = 65_000;
      this.httpServer = server;
      this.wsGateway?.attach(server);
    });
  }

  private closeHttp(): Promise<void> {
    const server = this.httpServer;
    if (server === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1000).unref();
    });
  }
}
