import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/gateway-config';
import type { RouteDefinition } from '../config/routes-file';
import type { GatherRegistry } from '../exchange/gather-registry';
import type { PendingRegistry } from '../exchange/pending-registry';
import type { ReplyNotifier } from '../exchange/reply-notifier';
import type { StreamRegistry } from '../exchange/stream-registry';
import { createAdminRouter } from '../ingress/admin/admin-router';
import { adminSettings } from '../ingress/admin/admin-settings';
import { createApp } from '../ingress/http/create-app';
import { ensureTopic } from '../kafka/ensure-topic';
import { assertKafkaReachable } from '../kafka/kafka-reachable';
import { assertKafkaAccess, explainCreateRefusal } from '../kafka/kafka-access';
import { kafkaAccessNeeds } from './kafka-access-needs';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { GatewayObservability } from '../observability/gateway-observability';
import type { Liveness } from '../observability/liveness';
import type { Logger } from '../observability/logger';
import type { Readiness } from '../observability/readiness';
import { connectWithin } from '../redis/redis-connections';
import { RedisRestartWatch } from '../redis/redis-run-id';
import type { RouteReloadResult } from '../routing/route-table';
import { createRoles, type Roles } from './all-role';
import { closeHttp, drainHttp, listenHttp } from './drain';
import { createHttpEndpoints } from './http-endpoints';
import type { NotifierParts } from './http-role';
import { createReplicaContext, type ReplicaContext } from './replica-context';

export type { NotifierParts } from './http-role';

/**
 * How long start-up tries to open a connection to a Kafka broker before it gives up naming
 * KAFKA_BROKERS: long enough for a broker that is starting alongside, short enough that a wrong
 * address is reported in seconds, not after kafkajs' retries.
 */
const KAFKA_STARTUP_REACH_MS = 5000;

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
   * @defaultValue a `RedisKeyspaceNotifier` on a dedicated subscriber connection
   */
  createNotifier?: (parts: NotifierParts) => ReplyNotifier;
  /**
   * Role `all` only: hand a reply the relay just stored to a request parked in this same process,
   * skipping the notification and the `GET` (see `LocalWakeReplyStore`). Off only to
   * measure what it saves (`bench/`). @defaultValue true
   */
  localWake?: boolean;
}

/**
 * One gateway replica: its lifecycle. The shared context (connections, registries, health) is
 * built by `createReplicaContext`, the roles (`http`, `relay`, or both for `all`) by `createRoles`;
 * this class starts and stops them in order.
 *
 * @example
 * const server = new GatewayServer({ config, routes, log });
 * await server.start();
 * process.on('SIGTERM', () => server.stop());
 */
export class GatewayServer {
  private readonly ctx: ReplicaContext;
  private readonly roles: Roles;
  private httpServer: Server | undefined;
  private stopping: Promise<void> | undefined;
  private restartWatch: RedisRestartWatch | undefined;

  constructor(private readonly options: GatewayServerOptions) {
    this.ctx = createReplicaContext(options);
    this.roles = createRoles(this.ctx, options);
  }

  get metrics(): GatewayMetrics {
    return this.ctx.metrics;
  }

  get readiness(): Readiness {
    return this.ctx.readiness;
  }

  /** What `/healthz` checks: components that did not recover within REPLYGATE_RECOVERY_TIMEOUT_MS. */
  get liveness(): Liveness {
    return this.ctx.liveness;
  }

  get registry(): PendingRegistry {
    return this.ctx.registry;
  }

  /** Streamed replies (`stream: true` routes) waiting on this replica. */
  get streams(): StreamRegistry {
    return this.ctx.streams;
  }

  /** Scatter-gather requests (`gather` routes) waiting on this replica. */
  get gathers(): GatherRegistry {
    return this.ctx.gathers;
  }

  /** Tracing, request logs, unread-reply and relay-lag metrics. */
  get observability(): GatewayObservability {
    return this.ctx.observability;
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
    const { config, redis, kafka, log } = this.ctx;
    const { http, relay } = this.roles;
    const timeoutMs = this.options.startupTimeoutMs ?? 30_000;
    await this.listen();
    // Both at once: a dead Kafka is named within seconds even while Redis is still being waited for.
    await Promise.all([
      connectWithin(redis, timeoutMs, this.ctx.redisConnections.target, log),
      assertKafkaReachable(config.kafkaBrokers, Math.min(timeoutMs, KAFKA_STARTUP_REACH_MS)),
    ]);
    const access = kafkaAccessNeeds(config, this.options.routes, this.ctx.kafkaConfig);
    await assertKafkaAccess(access);
    await this.watchRedisRestarts();
    await http?.startWake(timeoutMs);
    await ensureTopic(kafka, config.replyTopic, config.replyTopicPartitions, log, {
      replicationFactor: config.replyTopicReplicationFactor,
    }).catch((err: unknown) => {
      throw explainCreateRefusal(err, access, config.replyTopic);
    });
    await http?.startPublishing();
    await relay?.start();
    this.ctx.kafkaProbe.start();
    await this.ctx.observability.start();
    if (config.routesWatch) this.ctx.routeTable?.watch();
    this.ctx.lifecycle.started = true;
    this.ctx.readiness.markStarted();
    log.info({ port: this.port }, 'replygate replica ready');
  }

  /**
   * Re-read every pending reply after the notification channel came back: notifications sent
   * while it was down are gone, the replies are not.
   */
  async resync(): Promise<void> {
    await this.roles.http?.resync();
  }

  /**
   * Re-read the routes file (SIGHUP, `POST /admin/reload`, REPLYGATE_ROUTES_WATCH): swap to the new
   * routes if the whole file is valid, else keep the current ones and log the issues. Requests in
   * flight keep the route they matched.
   */
  reloadRoutes(): RouteReloadResult {
    if (this.ctx.routeTable === undefined) {
      return { ok: false, file: undefined, issues: [`role ${this.options.config.role} serves no routes`] };
    }
    return this.ctx.routeTable.reload();
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
    const { http, relay } = this.roles;
    this.ctx.readiness.markDraining();
    await drainHttp(this.httpServer, this.ctx.registry, this.options.config.shutdownGraceMs);
    await http?.closeWebSockets();
    await closeHttp(this.httpServer);
    await this.ctx.kafkaProbe.stop();
    http?.stopWatch();
    this.ctx.routeTable?.close();
    await this.ctx.observability.stop();
    await relay?.stop();
    await http?.stopPublishingAndWake();
    this.ctx.redis.disconnect();
    this.ctx.log.info('replygate replica stopped');
  }

  /**
   * A Redis master that comes back with another run id has restarted and, without persistence,
   * lost the replies it held; a replica promoted by a failover lacks what the old master had not
   * replicated. Waiters resync on their own (the notifier re-subscribes and re-reads); what is gone
   * must be written again, so the relay re-reads the last REPLYGATE_REPLY_TTL_MS of replies. Event
   * waiters lived in Redis too: the http role registers its own again, and the event relay re-reads
   * the event topics a few seconds later (after those re-registrations).
   * Per master on a cluster (see {@link RedisRestartWatch}).
   */
  private async watchRedisRestarts(): Promise<void> {
    const { redis, log } = this.ctx;
    this.restartWatch = new RedisRestartWatch(
      redis,
      () => {
        this.roles.http
          ?.restoreEventWaiters()
          .catch((err: unknown) => log.error({ err }, 'event waiters could not be registered again'));
        this.roles.relay
          ?.rewind()
          .catch((err: unknown) => log.error({ err }, 'relay rewind after Redis restart failed'));
      },
      log,
    );
    await this.restartWatch.start();
  }

  private async listen(): Promise<void> {
    const { config, registry, log } = this.ctx;
    const admin = createAdminRouter({
      token: config.adminToken,
      routes: () => this.ctx.routeTable?.routes ?? [],
      pending: () => ({ total: registry.size, limit: config.maxPending, byRoute: registry.countsByRoute() }),
      settings: () => adminSettings(config),
      reload: () => this.reloadRoutes(),
    });
    const http = this.roles.http;
    const endpoints = http === undefined ? undefined : createHttpEndpoints(this.ctx, http);
    if (http !== undefined) http.ws = endpoints?.ws;
    const app = createApp({
      readiness: this.ctx.readiness,
      liveness: this.ctx.liveness,
      metrics: this.ctx.metrics,
      log,
      gatewayHandler: endpoints?.gatewayHandler,
      routers: [admin, ...(endpoints?.routers ?? [])],
      instanceId: config.instanceId,
    });
    this.httpServer = await listenHttp(app, config, this.ctx.metrics);
    endpoints?.ws?.attach(this.httpServer);
  }
}
