import { Kafka, type KafkaConfig } from 'kafkajs';
import type { GatewayConfig } from '../config/gateway-config';
import type { RouteDefinition } from '../config/routes-file';
import { GatherRegistry } from '../exchange/gather-registry';
import { PendingRegistry } from '../exchange/pending-registry';
import { createStoredReplyDecoder, replyHeaderLimits, type StoredReplyDecoder } from '../exchange/stored-reply-decoder';
import { StreamRegistry } from '../exchange/stream-registry';
import { kafkaClientConfig } from '../kafka/kafka-client';
import { KafkaProbe } from '../kafka/kafka-probe';
import { GatewayMetrics } from '../observability/gateway-metrics';
import { GatewayObservability } from '../observability/gateway-observability';
import { Liveness } from '../observability/liveness';
import type { Logger } from '../observability/logger';
import { Readiness } from '../observability/readiness';
import { RedisConnections, type RedisClient } from '../redis/redis-connections';
import { RedisReplyStore } from '../redis/redis-reply-store';
import { RouteTable } from '../routing/route-table';
import { LogBurst } from '../observability/log-burst';

/** What every role of a replica shares: settings, connections, registries, health. */
export interface ReplicaContext {
  readonly config: GatewayConfig;
  readonly routes: RouteDefinition[] | undefined;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly liveness: Liveness;
  /** Where every Redis connection of the replica comes from (standalone, cluster or Sentinel; ACL user; TLS). */
  readonly redisConnections: RedisConnections;
  /** The command connection (store, idempotency, async records, hooks, rate limits). */
  readonly redis: RedisClient;
  readonly store: RedisReplyStore;
  readonly kafka: Kafka;
  /** The options `kafka` was built with (TLS and SASL included): for the start-up access check. */
  readonly kafkaConfig: KafkaConfig;
  readonly kafkaProbe: KafkaProbe;
  readonly observability: GatewayObservability;
  /** The routes in force (roles with routes), swapped by reloads. */
  readonly routeTable: RouteTable | undefined;
  readonly registry: PendingRegistry;
  readonly streams: StreamRegistry;
  readonly gathers: GatherRegistry;
  /** Every path that answers a reply decodes it here: the configured header caps, drops counted. */
  readonly replyDecoder: StoredReplyDecoder;
  /**
   * How long a record tied to a reply lives (idempotency keys, async records, callback hooks):
   * REPLYGATE_REPLY_TTL_MS plus the longest route timeout, so it outlives the reply it points to.
   */
  readonly recordTtlMs: number;
  /** Set once `start()` completed; admission and liveness read it. */
  readonly lifecycle: { started: boolean };
}

/** Build the shared part of a replica (no connection is opened: ioredis and kafkajs connect lazily). */
export function createReplicaContext(options: {
  config: GatewayConfig;
  routes?: RouteDefinition[];
  log: Logger;
}): ReplicaContext {
  const { config, routes } = options;
  const log = options.log.child({ component: 'gateway', instanceId: config.instanceId, role: config.role });
  const metrics = new GatewayMetrics();
  const readiness = new Readiness();
  const liveness = new Liveness(config.recoveryTimeoutMs);
  const redisConnections = RedisConnections.fromSettings(config);
  const redis = redisConnections.command(`replygate:${config.instanceId}`);
  redis.on('error', (err: unknown) => log.debug({ err }, 'redis connection error'));
  const store = new RedisReplyStore(redis, config.keyPrefix, config.replyTtlMs);
  const replyDecoder = createStoredReplyDecoder({
    limits: replyHeaderLimits(config),
    metrics,
    log: log.child({ component: 'replies' }),
  });
  const kafkaConfig = kafkaClientConfig(
    config.kafkaBrokers,
    `${config.kafkaClientId}-${config.instanceId}`,
    log,
    config,
  );
  const kafka = new Kafka(kafkaConfig);
  const observability = new GatewayObservability({ config, kafka, metrics, log, relays: config.role !== 'http' });
  const routeTable =
    routes === undefined
      ? undefined
      : new RouteTable(routes, {
          file: config.routesFile,
          defaults: config,
          log: log.child({ component: 'routes' }),
          onReload: (result) => metrics.routeReloads.inc({ result: result.ok ? 'ok' : 'refused' }),
        });
  const readFailed = new LogBurst(log, 'could not read reply from Redis');
  const registry = new PendingRegistry((id) => store.readReply(id), {
    onLateReply: (correlationId) => {
      metrics.lateReplies.inc();
      observability.unread.lateReply(correlationId);
    },
    onAbandoned: (correlationId, reason) => observability.unread.abandon(correlationId, reason),
    onReadError: (correlationId, err) => {
      metrics.replyErrors.inc({ reason: 'read-failed' });
      readFailed.warn({ err, correlationId });
    },
  });
  metrics.pendingLimit.set(config.maxPending);
  readiness.add({ name: 'redis', ready: () => redis.status === 'ready' });
  const kafkaProbe = new KafkaProbe(kafka, config.replyTopic, log.child({ component: 'kafka-probe' }));
  readiness.add({ name: 'kafka', ready: () => kafkaProbe.reachable });
  return {
    config,
    routes,
    log,
    metrics,
    readiness,
    liveness,
    redisConnections,
    redis,
    store,
    kafka,
    kafkaConfig,
    kafkaProbe,
    observability,
    routeTable,
    registry,
    streams: new StreamRegistry(store),
    gathers: new GatherRegistry(store),
    replyDecoder,
    recordTtlMs: config.replyTtlMs + Math.max(0, ...(routes ?? []).map((r) => r.timeoutMs)),
    lifecycle: { started: false },
  };
}
