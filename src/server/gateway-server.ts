import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Kafka } from 'kafkajs';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../config/gateway-config';
import type { RouteDefinition } from '../config/routes-file';
import { PendingRegistry } from '../gateway/pending-registry';
import { RequestBroker } from '../gateway/request-broker';
import { createApp } from '../http/create-app';
import { createGatewayHandler } from '../http/gateway-handler';
import { RouteMatcher } from '../http/route-matcher';
import type { Logger } from '../logging';
import { GatewayMetrics } from '../metrics';
import { ReplyRelay } from '../relay/reply-relay';
import { RedisKeyspaceNotifier } from '../store/redis-keyspace-notifier';
import type { ReplyNotifier } from '../store/reply-notifier';
import type { ReplyStore } from '../store/reply-store';
import { ensureKeyspaceNotifications } from '../store/redis-notifications-check';
import { RedisReplyStore } from '../store/redis-reply-store';
import { createKafka } from '../transport/kafka-client';
import { KafkaRequestPublisher } from '../transport/kafka-request-publisher';
import { Readiness } from './readiness';
import { connectWithin, createCommandConnection, createSubscriberConnection } from './redis-connections';
import { ensureTopic } from './ensure-topic';
import type { Router } from 'express';
import { AsyncReplyRegistry } from '../async/async-reply-registry';
import { createRepliesRouter } from '../async/replies-router';
import { RedisIdempotencyStore } from '../idempotency/idempotency-store';

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
  readonly registry: PendingRegistry;
  private readonly redis: Redis;
  private readonly subscriber: Redis | undefined;
  private readonly kafka: Kafka;
  private readonly store: RedisReplyStore;
  private readonly publisher: KafkaRequestPublisher | undefined;
  private readonly notifier: ReplyNotifier | undefined;
  private readonly relay: ReplyRelay | undefined;
  private httpServer: Server | undefined;
  private started = false;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly options: GatewayServerOptions) {
    const { config } = options;
    this.log = options.log.child({ component: 'gateway', instanceId: config.instanceId, role: config.role });
    const serves = config.role !== 'relay';
    const relays = config.role !== 'http';
    this.redis = createCommandConnection(config.redisUrl, `replygate:${config.instanceId}`);
    this.redis.on('error', (err) => this.log.debug({ err }, 'redis connection error'));
    this.store = new RedisReplyStore(this.redis, config.keyPrefix, config.replyTtlMs);
    this.kafka = createKafka(config.kafkaBrokers, `${config.kafkaClientId}-${config.instanceId}`, this.log);
    this.registry = new PendingRegistry((id) => this.store.readReply(id), {
      onLateReply: () => this.metrics.lateReplies.inc(),
      onReadError: (correlationId, err) => {
        this.metrics.replyErrors.inc({ reason: 'read-failed' });
        this.log.warn({ err, correlationId }, 'could not read reply from Redis');
      },
    });
    this.metrics.pendingLimit.set(config.maxPending);
    this.readiness.add({ name: 'redis', ready: () => this.redis.status === 'ready' });
    if (serves) {
      if (options.routes === undefined) throw new Error(`routes are required for role ${config.role}`);
      this.subscriber = createSubscriberConnection(config.redisUrl, `replygate:${config.instanceId}:sub`);
      this.subscriber.on('error', (err) => this.log.debug({ err }, 'redis subscriber error'));
      const notifierLog = this.log.child({ component: 'notifier' });
      this.notifier =
        options.createNotifier?.({ store: this.store, registry: this.registry, log: notifierLog }) ??
        new RedisKeyspaceNotifier(this.subscriber, config.keyPrefix, notifierLog);
      this.publisher = new KafkaRequestPublisher(this.kafka, this.log.child({ component: 'publisher' }));
      const notifier = this.notifier;
      const publisher = this.publisher;
      this.readiness.add({ name: 'subscription', ready: () => notifier.live });
      this.readiness.add({ name: 'producer', ready: () => publisher.connected });
    }
    if (relays) {
      this.relay = new ReplyRelay(
        this.kafka,
        this.store,
        {
          replyTopic: config.replyTopic,
          groupId: config.relayGroupId,
          maxReplyBytes: config.maxReplyBytes,
          sessionTimeoutMs: config.relaySessionTimeoutMs,
        },
        this.metrics,
        this.log.child({ component: 'relay' }),
      );
      const relay = this.relay;
      this.readiness.add({ name: 'relay', ready: () => relay.ready });
    }
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
    await connectWithin(this.redis, timeoutMs, config.redisUrl);
    if (this.notifier !== undefined && this.subscriber !== undefined) {
      if (config.redisCheck) await ensureKeyspaceNotifications(this.redis, config.redisConfigure, this.log);
      await connectWithin(this.subscriber, timeoutMs, config.redisUrl);
      await this.notifier.start(config.instanceId, {
        onReplyStored: (id) => this.registry.notify(id),
        onResync: () => void this.resync(),
      });
    }
    await ensureTopic(this.kafka, config.replyTopic, config.replyTopicPartitions, this.log);
    if (this.publisher !== undefined) await this.publisher.connect();
    if (this.relay !== undefined) await this.relay.start();
    this.started = true;
    this.readiness.markStarted();
    this.log.info({ port: this.port }, 'replygate replica ready');
  }

  /**
   * Re-read every pending reply after the notification channel came back: notifications sent
   * while it was down are gone, the replies are not.
   */
  async resync(): Promise<void> {
    const ids = this.registry.ids();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      try {
        const values = await this.store.readReplies(chunk);
        values.forEach((raw, j) => {
          if (raw !== null) this.registry.deliver(chunk[j] as string, raw);
        });
      } catch (err) {
        this.log.warn({ err }, 'resync read failed; pending requests fall back to their deadline read');
      }
    }
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
    await this.closeHttp();
    await this.relay?.stop().catch((err: unknown) => this.log.warn({ err }, 'relay stop failed'));
    await this.publisher?.disconnect().catch((err: unknown) => this.log.warn({ err }, 'producer stop failed'));
    await this.notifier?.close();
    this.redis.disconnect();
    this.log.info('replygate replica stopped');
  }

  private admissionBlocker(): string | undefined {
    if (this.readiness.isDraining) return 'this replica is shutting down';
    if (!this.started) return 'this replica is starting';
    if (this.redis.status !== 'ready') return 'Redis is unreachable';
    if (this.notifier !== undefined && !this.notifier.live) return 'Redis keyspace subscription is down';
    return undefined;
  }

  private listen(): Promise<void> {
    const { config, routes } = this.options;
    let gatewayHandler;
    const routers: Router[] = [];
    if (this.publisher !== undefined && routes !== undefined) {
      const matcher = new RouteMatcher(routes);
      const broker = new RequestBroker(
        this.publisher,
        this.registry,
        this.metrics,
        this.log,
        this.notifier,
        config.instanceId,
      );
      const asyncReplies = new AsyncReplyRegistry(this.redis, config.keyPrefix, config.replyTtlMs + MAX_ROUTE_TIMEOUT_MS(routes));
      routers.push(createRepliesRouter({ registry: asyncReplies, store: this.store, broker, maxWaitMs: config.maxWaitMs }));
      gatewayHandler = createGatewayHandler({
        config,
        matcher: () => matcher,
        broker,
        asyncReplies,
        idempotency: new RedisIdempotencyStore(
          this.redis,
          config.keyPrefix,
          config.replyTtlMs + MAX_ROUTE_TIMEOUT_MS(routes),
        ),
        registry: this.registry,
        metrics: this.metrics,
        log: this.log,
        admissionBlocker: () => this.admissionBlocker(),
      });
    }
    const app = createApp({ readiness: this.readiness, metrics: this.metrics, log: this.log, gatewayHandler, routers });
    return new Promise((resolve, reject) => {
      const server = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve()));
      server.on('error', reject);
      server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket));
      server.keepAliveTimeout = 65_000;
      this.httpServer = server;
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

/**
 * Requests node's HTTP parser refuses before express sees them (headers over the limit, malformed
 * request lines) still get a JSON problem body, not a bare socket close.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    type: 'urn:replygate:error:RG_BAD_REQUEST',
    title: 'RG_BAD_REQUEST',
    status,
    detail: tooLarge ? 'Request headers are too large' : 'Malformed HTTP request',
    error: 'RG_BAD_REQUEST',
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
