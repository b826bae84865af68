import { KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE } from '../protocol/topic-name';
import { kafkaConnectionShape } from './kafka-connection';
import { redisConnectionShape } from './redis-connection';
import { z } from 'zod';
import { INSTANCE_ID_PATTERN } from '../protocol/correlation-id';
import { isGatewayReservedHeader, RESERVED_HEADER_MESSAGE } from '../protocol/reserved-headers';

const bool = z.union([z.boolean(), z.stringbool()]);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
/**
 * An integer where 0 switches the feature off and any other value must lie in `[min, max]`. One
 * coerced number refined, not `z.union([z.literal(0), int(min, max)])`: the literal never matches
 * the string '0' that an environment variable or a flag carries, so "0: never" was refused there.
 */
const offOrInt = (min: number, max: number) =>
  int(0, max).refine((v) => v === 0 || v >= min, { message: `use 0 (off) or a value from ${min} to ${max}` });

/** JWS algorithms a JWT may be signed with; `none` is deliberately absent. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** A JWS algorithm replygate can accept. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Client request headers forwarded to services unless a route overrides the list. */
export const DEFAULT_FORWARD_HEADERS = [
  'accept',
  'accept-language',
  'user-agent',
  'x-request-id',
  'traceparent',
  'tracestate',
] as const;

/**
 * Every gateway setting, its source names and its default. This schema is the only place
 * settings are declared; the README settings table is written from it (kept honest by test/unit/config/readme-config.test.ts).
 */
export const gatewayConfigSchema = z.object({
  /** `KAFKA_BROKERS`: comma-separated `host:port` list. @defaultValue `localhost:9092` */
  kafkaBrokers: z
    .string()
    .default('localhost:9092')
    .transform((s) =>
      s
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each broker must be host:port')).min(1)),
  /** `KAFKA_CLIENT_ID`: Kafka client id prefix. @defaultValue `replygate` */
  kafkaClientId: z.string().min(1).default('replygate'),
  ...kafkaConnectionShape,
  ...redisConnectionShape,
  /** `HOST`: address the HTTP server binds. @defaultValue `0.0.0.0` */
  host: z.string().min(1).default('0.0.0.0'),
  /** `PORT`: HTTP port (0 picks a free one). @defaultValue 8080 */
  port: int(0, 65535).default(8080),
  /** `REPLYGATE_ROUTES`: path of the YAML routes file (needed by the `all` and `http` roles). */
  routesFile: z.string().min(1).optional(),
  /** `REPLYGATE_INSTANCE_ID`: this replica's id, part of every correlation id. @defaultValue generated */
  instanceId: z.string().regex(INSTANCE_ID_PATTERN, 'use 1-64 of A-Z a-z 0-9 _ -').optional(),
  /** `REPLYGATE_ROLE`: `all` (default), `http` (park and wake) or `relay` (Kafka replies → Redis). */
  role: z.enum(['all', 'http', 'relay']).default('all'),
  /** `REPLYGATE_REPLY_TOPIC`: the shared reply topic every replica's relay consumes. */
  replyTopic: z.string().regex(KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE).default('replygate.replies'),
  /** `REPLYGATE_REPLY_TOPIC_PARTITIONS`: partitions when the gateway creates the reply topic. @defaultValue 6 */
  replyTopicPartitions: int(1, 10000).default(6),
  /**
   * `REPLYGATE_REPLY_TOPIC_REPLICATION_FACTOR`: replicas of each reply-topic partition when the
   * gateway creates the topic; -1 takes the broker's `default.replication.factor`. Use 3 on a
   * three-broker cluster (with `min.insync.replicas=2`) so a broker loss loses no reply.
   * An existing topic is never changed; one with fewer replicas than asked is logged at start.
   * @defaultValue -1
   */
  replyTopicReplicationFactor: int(-1, 32767)
    .refine((v) => v !== 0, { message: 'use -1 (broker default) or 1 or more' })
    .default(-1),
  /**
   * `REPLYGATE_RELAY_GROUP`: name of the relay consumer group (of the first one, when there are
   * several: see `REPLYGATE_RELAY_GROUPS`). @defaultValue `replygate-relay`
   */
  relayGroupId: z.string().min(1).default('replygate-relay'),
  /**
   * `REPLYGATE_RELAY_GROUPS`: how many redundant relay groups read the reply topic. Each group
   * covers every reply partition and the first write of a reply wins (`SET NX`), so with 2 the
   * SIGKILL of a relay costs no request a timeout (the other group keeps writing its partitions);
   * each extra group costs one more read of the reply topic and one more `SET` attempt per reply.
   * Every replica of a deployment sets the same value. 1 is a single group, for one-relay setups.
   * @defaultValue 1
   */
  relayGroups: int(1, 8).default(1),
  /**
   * `REPLYGATE_RELAY_GROUP_INDEX`: which of the `REPLYGATE_RELAY_GROUPS` groups this relay joins,
   * from 0. Group 0 is `REPLYGATE_RELAY_GROUP` itself, group n is `<REPLYGATE_RELAY_GROUP>-<n>`.
   * Set explicitly per relay process (one deployment of relays per group). @defaultValue 0
   */
  relayGroupIndex: int(0, 7).default(0),
  /**
   * `REPLYGATE_EVENT_GROUP`: the consumer group in which relays read the event topics of routes with
   * `await` (never the reply group: an event topic is not a reply topic, and its lag is its own).
   * @defaultValue `replygate-events`
   */
  eventGroupId: z.string().min(1).default('replygate-events'),
  /**
   * `REPLYGATE_RELAY_SESSION_TIMEOUT_MS`: how long the group waits for a relay that vanished without
   * leaving (SIGKILL, lost host) before its reply partitions move to another relay. Replies on those
   * partitions wait that long; keep it below the shortest route timeout where possible. The broker
   * bounds it (group.min.session.timeout.ms, 6000 by default). @defaultValue 10000
   */
  relaySessionTimeoutMs: int(1000, 300_000).default(10_000),
  /**
   * `REPLYGATE_RELAY_COMMIT_INTERVAL_MS`: how often a relay commits the offsets of replies already
   * written to Redis (never earlier). 0 commits after every batch, on the hot path. @defaultValue 100
   */
  relayCommitIntervalMs: int(0, 60_000).default(100),
  /**
   * `REPLYGATE_RECOVERY_TIMEOUT_MS`: how long the relay may stay out of its consumer group after a
   * crash (it rebuilds its consumer with backoff meanwhile) before `/healthz` answers 503 naming
   * it, so an orchestrator restarts the process. 0: `/healthz` never fails. @defaultValue 120000
   */
  recoveryTimeoutMs: int(0, 3_600_000).default(120_000),
  /**
   * `REPLYGATE_PRODUCER_BATCHING`: `adaptive` sends a request at once while a send slot to its
   * topic is free, and gathers requests into one produce batch while all slots are in flight (as
   * the Java producer does with linger.ms=0); `off` makes every request its own produce call.
   * @defaultValue `adaptive`
   */
  producerBatching: z.enum(['adaptive', 'off']).default('adaptive'),
  /**
   * `REPLYGATE_PRODUCER_MAX_IN_FLIGHT`: with adaptive batching, produce calls per request topic
   * allowed in flight at once; requests gather into one batch only while this many are waiting
   * for the broker (Kafka's max.in.flight.requests.per.connection plays the same part). 1 batches
   * the most and makes a request wait behind every unacknowledged produce; more slots wait less
   * and batch only under heavier load. @defaultValue 2
   */
  producerMaxInFlight: int(1, 64).default(2),
  /**
   * `REPLYGATE_PRODUCER_LINGER_MS`: also wait this long before sending a batch (Kafka's linger.ms,
   * which kafkajs lacks). Adds up to this much latency to every request. @defaultValue 0
   */
  producerLingerMs: int(0, 100).default(0),
  /**
   * `REPLYGATE_REPLY_PARTITION_HINT`: a replica of role `all` names, on each request, a reply-topic
   * partition its own relay reads (`rg-reply-partition`, `kafka_replyPartition`), so the reply
   * wakes the request in-process instead of through a keyspace notification and a `GET`. Only a
   * hint: a reply elsewhere takes the Redis path. No effect on roles `http` and `relay`. Off by
   * default: it cuts Redis commands per request by ~45 % in `3 × all`, but measured a worse p50
   * at 300/s on the two-core bench machine (docs/PERFORMANCE.md, fix 6). @defaultValue false
   */
  replyPartitionHint: bool.default(false),
  /** `REPLYGATE_TIMEOUT_MS`: default per-route reply timeout. @defaultValue 5000 */
  timeoutMs: int(1, 3_600_000).default(5000),
  /** `REPLYGATE_REPLY_TTL_MS`: how long a reply stays in Redis. @defaultValue 60000 */
  replyTtlMs: int(100, 7 * 24 * 3_600_000).default(60_000),
  /** `REPLYGATE_KEY_PREFIX`: prefix of every Redis key the gateway writes. @defaultValue `rg:` */
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{0,64}$/, 'use A-Z a-z 0-9 : _ . - only')
    .default('rg:'),
  /** `REPLYGATE_MAX_BODY_BYTES`: default request body limit. @defaultValue 1048576 */
  maxBodyBytes: int(0, 64 * 1024 * 1024).default(1024 * 1024),
  /**
   * `REPLYGATE_MAX_REPLY_BYTES`: replies larger than this are skipped by the relay. The default is
   * the broker's own default `message.max.bytes` (1048588): a larger reply is refused by Kafka
   * before it reaches the relay, so raising this only helps with the reply topic's
   * `max.message.bytes` (and the services' producer `max.request.size`) raised too.
   * @defaultValue 1048588
   */
  maxReplyBytes: int(1, 64 * 1024 * 1024).default(1_048_588),
  /**
   * `REPLYGATE_MAX_REPLY_HEADERS`: most headers one reply may set in `rg-headers`; beyond, the
   * client gets 502 RG_REPLY_MALFORMED. @defaultValue 64
   */
  maxReplyHeaders: int(0, 10_000).default(64),
  /**
   * `REPLYGATE_MAX_REPLY_HEADER_BYTES`: most bytes of names plus values one reply may set in
   * `rg-headers`; beyond, 502 RG_REPLY_MALFORMED. @defaultValue 16384
   */
  maxReplyHeaderBytes: int(0, 1024 * 1024).default(16 * 1024),
  /** `REPLYGATE_MAX_WAIT_MS`: longest wait a `Prefer: wait=N` long-poll or an SSE stream may hold. @defaultValue 30000 */
  maxWaitMs: int(0, 600_000).default(30_000),
  /** `REPLYGATE_MAX_PENDING`: parked requests allowed on one replica before 503. @defaultValue 10000 */
  maxPending: int(1).default(10_000),
  /**
   * `REPLYGATE_MAX_WATCHERS`: `Prefer: wait=N` long-polls and SSE streams on `/v1/replies` held at
   * once on one replica; beyond it 503. Apart from `maxPending`, so watchers never starve requests.
   * @defaultValue 1000
   */
  maxWatchers: int(0).default(1000),
  /**
   * `REPLYGATE_MAX_WATCHERS_PER_REPLY`: long-polls and SSE streams held at once on one reply id
   * (per replica); beyond it 429. @defaultValue 4
   */
  maxWatchersPerReply: int(1).default(4),
  /** `REPLYGATE_REDIS_CONFIGURE`: set `notify-keyspace-events` at start-up if missing. @defaultValue false */
  redisConfigure: bool.default(false),
  /** `REPLYGATE_REDIS_CHECK`: verify keyspace notifications at start-up (off for Redis without CONFIG). @defaultValue true */
  redisCheck: bool.default(true),
  /**
   * `REPLYGATE_NOTIFY_CHECK_INTERVAL_MS`: how often an `http`/`all` replica proves that keyspace
   * notifications still arrive (a canary key its own subscription must see before the next round;
   * with REPLYGATE_REDIS_CHECK also a CONFIG GET of the setting). A loss turns `/readyz` 503 within
   * about two intervals. 0: never. @defaultValue 2000
   */
  notifyCheckIntervalMs: offOrInt(200, 3_600_000).default(2000),
  /**
   * `REPLYGATE_REDIS_RECONNECT_GRACE_MS`: how long a request that arrives while the Redis connection
   * is reconnecting (a failover kills client connections) waits for it before it is refused with
   * 503. 0: refuse at once. @defaultValue 1500
   */
  redisReconnectGraceMs: int(0, 30_000).default(1500),
  /** `REPLYGATE_SHUTDOWN_GRACE_MS`: time in-flight requests get on SIGTERM. @defaultValue 10000 */
  shutdownGraceMs: int(0, 600_000).default(10_000),
  /** `REPLYGATE_FORWARD_HEADERS`: comma-separated client headers forwarded to services. */
  forwardHeaders: z
    .string()
    .default(DEFAULT_FORWARD_HEADERS.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((list) => !list.some(isGatewayReservedHeader), RESERVED_HEADER_MESSAGE),
  /** `REPLYGATE_AUTH_DEFAULT`: authentication of routes that set no `auth` (`none`, `apiKey`, `jwt`). @defaultValue `none` */
  authDefault: z.enum(['none', 'apiKey', 'jwt']).default('none'),
  /** `REPLYGATE_API_KEYS_FILE`: YAML file of hashed API keys (required when a route uses `auth: apiKey`). */
  apiKeysFile: z.string().min(1).optional(),
  /** `REPLYGATE_JWT_ISSUER`: required `iss` of accepted JWTs (required when a route uses `auth: jwt`). */
  jwtIssuer: z.string().min(1).optional(),
  /** `REPLYGATE_JWT_AUDIENCE`: required `aud` of accepted JWTs (required when a route uses `auth: jwt`). */
  jwtAudience: z.string().min(1).optional(),
  /** `REPLYGATE_JWT_JWKS_URL`: JWKS endpoint of the issuer (https; http only for loopback). Keys are cached. */
  jwtJwksUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** `REPLYGATE_JWT_PUBLIC_KEY_FILE`: PEM public key (SPKI) or certificate that signs the JWTs. */
  jwtPublicKeyFile: z.string().min(1).optional(),
  /** `REPLYGATE_JWT_SECRET_FILE`: file holding the HMAC secret (at least 32 bytes) for HS256/384/512 JWTs. */
  jwtSecretFile: z.string().min(1).optional(),
  /**
   * `REPLYGATE_JWT_ALGORITHMS`: comma-separated accepted `alg` values; `none` is never accepted and
   * HS* only with a secret. @defaultValue `HS256` with a secret, else `RS256,PS256,ES256,EdDSA`
   */
  jwtAlgorithms: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1))
    .optional(),
  /** `REPLYGATE_JWT_CLOCK_SKEW_SEC`: tolerance for `exp`/`nbf`/`iat` against this host's clock. @defaultValue 30 */
  jwtClockSkewSec: int(0, 300).default(30),
  /** `REPLYGATE_RATE_LIMIT_POINTS`: requests per window for routes without `rateLimit` (0: no limit). @defaultValue 0 */
  rateLimitPoints: int(0).default(0),
  /** `REPLYGATE_RATE_LIMIT_DURATION_SEC`: window of the default rate limit. @defaultValue 60 */
  rateLimitDurationSec: int(1, 86_400).default(60),
  /**
   * `REPLYGATE_TRUST_PROXY`: which proxies may set `X-Forwarded-For` (express `trust proxy`): `false`,
   * `true`, a hop count, or comma-separated addresses/CIDRs/`loopback`. Decides the client IP that
   * anonymous rate limits count. @defaultValue `false`
   */
  trustProxy: z
    .string()
    .default('false')
    .transform((s): boolean | number | string[] => {
      const v = s.trim();
      if (v === 'false' || v === '') return false;
      if (v === 'true') return true;
      if (/^\d{1,3}$/.test(v)) return Number(v);
      return v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
    }),
  /** `REPLYGATE_HEADERS_TIMEOUT_MS`: time a client gets to send the request headers (slow-client guard). @defaultValue 10000 */
  headersTimeoutMs: int(1000, 600_000).default(10_000),
  /** `REPLYGATE_REQUEST_TIMEOUT_MS`: time a client gets to send the whole request, body included. @defaultValue 30000 */
  requestTimeoutMs: int(1000, 3_600_000).default(30_000),
  /** `REPLYGATE_TLS_CERT_FILE`: PEM certificate chain; with REPLYGATE_TLS_KEY_FILE the gateway serves https. */
  tlsCertFile: z.string().min(1).optional(),
  /** `REPLYGATE_TLS_KEY_FILE`: PEM private key of REPLYGATE_TLS_CERT_FILE. */
  tlsKeyFile: z.string().min(1).optional(),
  /** `REPLYGATE_ADMIN_TOKEN`: bearer token of the `/admin` endpoints (at least 16 characters); unset turns them off. */
  adminToken: z.string().min(16, 'use at least 16 characters').optional(),
  /** `REPLYGATE_ROUTES_WATCH`: reload the routes file when it changes (SIGHUP and POST /admin/reload always work). @defaultValue false */
  routesWatch: bool.default(false),
  /** `REPLYGATE_REQUEST_LOG`: one `info` log line per request (correlation id, route, status, latency, trace id). @defaultValue true */
  requestLog: bool.default(true),
  /** `REPLYGATE_RELAY_LAG_INTERVAL_MS`: how often a relay samples its group's lag per partition (0: never). @defaultValue 15000 */
  relayLagIntervalMs: int(0, 3_600_000).default(15_000),
  /** `REPLYGATE_OTEL_ENABLED`: record OpenTelemetry spans and export them over OTLP/HTTP. @defaultValue false */
  otelEnabled: bool.default(false),
  /** `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/HTTP collector base URL (`/v1/traces` is appended). @defaultValue `http://localhost:4318` */
  otelEndpoint: z.url({ protocol: /^https?$/ }).default('http://localhost:4318'),
  /** `OTEL_SERVICE_NAME`: `service.name` of the gateway's spans. @defaultValue `replygate` */
  otelServiceName: z.string().min(1).default('replygate'),
  /** `REPLYGATE_WEBHOOK_CONCURRENCY`: callback deliveries in flight per relay-capable replica. @defaultValue 10 */
  webhookConcurrency: int(1, 1000).default(10),
  /** `REPLYGATE_WEBHOOK_TIMEOUT_MS`: how long one callback POST may take before it counts as failed. @defaultValue 10000 */
  webhookTimeoutMs: int(100, 300_000).default(10_000),
  /** `REPLYGATE_WEBHOOK_RETENTION_SEC`: how long dead-lettered callbacks stay in BullMQ's failed set. @defaultValue 604800 */
  webhookRetentionSec: int(60, 90 * 86_400).default(7 * 86_400),
  /**
   * `REPLYGATE_WEBHOOK_EVICTION_CHECK`: when routes configure callbacks, relays check that Redis'
   * `maxmemory-policy` is `noeviction` (BullMQ's need) and refuse to start otherwise (`require`),
   * or only log a warning (`warn`). @defaultValue `require`
   */
  webhookEvictionCheck: z.enum(['require', 'warn']).default('require'),
  /** `REPLYGATE_WS_ENABLED`: serve request-reply over WebSocket on `/v1/ws`. @defaultValue false */
  wsEnabled: bool.default(false),
  /** `REPLYGATE_WS_MAX_IN_FLIGHT`: requests one socket may have waiting; more are answered 503. @defaultValue 64 */
  wsMaxInFlight: int(1, 100_000).default(64),
  /** `REPLYGATE_WS_MAX_BUFFERED_BYTES`: unsent reply bytes before a socket stops reading frames. @defaultValue 1048576 */
  wsMaxBufferedBytes: int(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** `REPLYGATE_WS_HEARTBEAT_MS`: ping interval; a socket that misses a pong by the next one is closed. @defaultValue 30000 */
  wsHeartbeatMs: int(100, 600_000).default(30_000),
  /** `LOG_LEVEL`: pino level (`silent`, `error`, `warn`, `info`, `debug`). @defaultValue `info` */
  logLevel: z.enum(['silent', 'fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});

/** Validated gateway settings. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema> & { instanceId: string };

/** Raw input before defaults and validation (strings from env or flags). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
