import type { GatewayConfigInput } from './gateway-config';
import { KAFKA_CONNECTION_SOURCES } from './kafka-connection';
import { REDIS_CONNECTION_SOURCES } from './redis-connection';

/** Where a setting comes from: its environment variable, and its flag unless it is a secret. */
export interface ConfigSource {
  env: string;
  /** Absent for secrets: a flag would show them in `ps`. */
  flag?: string;
}

/** Maps each setting to its environment variable and command-line flag. */
export const CONFIG_SOURCES: Record<keyof GatewayConfigInput, ConfigSource> = {
  kafkaBrokers: { env: 'KAFKA_BROKERS', flag: 'kafka-brokers' },
  kafkaClientId: { env: 'KAFKA_CLIENT_ID', flag: 'kafka-client-id' },
  ...KAFKA_CONNECTION_SOURCES,
  ...REDIS_CONNECTION_SOURCES,
  host: { env: 'HOST', flag: 'host' },
  port: { env: 'PORT', flag: 'port' },
  routesFile: { env: 'REPLYGATE_ROUTES', flag: 'routes' },
  instanceId: { env: 'REPLYGATE_INSTANCE_ID', flag: 'instance-id' },
  role: { env: 'REPLYGATE_ROLE', flag: 'role' },
  replyTopic: { env: 'REPLYGATE_REPLY_TOPIC', flag: 'reply-topic' },
  replyTopicPartitions: { env: 'REPLYGATE_REPLY_TOPIC_PARTITIONS', flag: 'reply-topic-partitions' },
  replyTopicReplicationFactor: {
    env: 'REPLYGATE_REPLY_TOPIC_REPLICATION_FACTOR',
    flag: 'reply-topic-replication-factor',
  },
  relayGroupId: { env: 'REPLYGATE_RELAY_GROUP', flag: 'relay-group' },
  relayGroups: { env: 'REPLYGATE_RELAY_GROUPS', flag: 'relay-groups' },
  eventGroupId: { env: 'REPLYGATE_EVENT_GROUP', flag: 'event-group' },
  relayGroupIndex: { env: 'REPLYGATE_RELAY_GROUP_INDEX', flag: 'relay-group-index' },
  relaySessionTimeoutMs: { env: 'REPLYGATE_RELAY_SESSION_TIMEOUT_MS', flag: 'relay-session-timeout-ms' },
  relayCommitIntervalMs: { env: 'REPLYGATE_RELAY_COMMIT_INTERVAL_MS', flag: 'relay-commit-interval-ms' },
  recoveryTimeoutMs: { env: 'REPLYGATE_RECOVERY_TIMEOUT_MS', flag: 'recovery-timeout-ms' },
  producerBatching: { env: 'REPLYGATE_PRODUCER_BATCHING', flag: 'producer-batching' },
  producerMaxInFlight: { env: 'REPLYGATE_PRODUCER_MAX_IN_FLIGHT', flag: 'producer-max-in-flight' },
  producerLingerMs: { env: 'REPLYGATE_PRODUCER_LINGER_MS', flag: 'producer-linger-ms' },
  replyPartitionHint: { env: 'REPLYGATE_REPLY_PARTITION_HINT', flag: 'reply-partition-hint' },
  timeoutMs: { env: 'REPLYGATE_TIMEOUT_MS', flag: 'timeout-ms' },
  replyTtlMs: { env: 'REPLYGATE_REPLY_TTL_MS', flag: 'reply-ttl-ms' },
  keyPrefix: { env: 'REPLYGATE_KEY_PREFIX', flag: 'key-prefix' },
  maxBodyBytes: { env: 'REPLYGATE_MAX_BODY_BYTES', flag: 'max-body-bytes' },
  maxReplyBytes: { env: 'REPLYGATE_MAX_REPLY_BYTES', flag: 'max-reply-bytes' },
  maxReplyHeaders: { env: 'REPLYGATE_MAX_REPLY_HEADERS', flag: 'max-reply-headers' },
  maxReplyHeaderBytes: { env: 'REPLYGATE_MAX_REPLY_HEADER_BYTES', flag: 'max-reply-header-bytes' },
  maxWaitMs: { env: 'REPLYGATE_MAX_WAIT_MS', flag: 'max-wait-ms' },
  maxPending: { env: 'REPLYGATE_MAX_PENDING', flag: 'max-pending' },
  maxWatchers: { env: 'REPLYGATE_MAX_WATCHERS', flag: 'max-watchers' },
  maxWatchersPerReply: { env: 'REPLYGATE_MAX_WATCHERS_PER_REPLY', flag: 'max-watchers-per-reply' },
  redisConfigure: { env: 'REPLYGATE_REDIS_CONFIGURE', flag: 'redis-configure' },
  redisCheck: { env: 'REPLYGATE_REDIS_CHECK', flag: 'redis-check' },
  notifyCheckIntervalMs: { env: 'REPLYGATE_NOTIFY_CHECK_INTERVAL_MS', flag: 'notify-check-interval-ms' },
  redisReconnectGraceMs: { env: 'REPLYGATE_REDIS_RECONNECT_GRACE_MS', flag: 'redis-reconnect-grace-ms' },
  shutdownGraceMs: { env: 'REPLYGATE_SHUTDOWN_GRACE_MS', flag: 'shutdown-grace-ms' },
  forwardHeaders: { env: 'REPLYGATE_FORWARD_HEADERS', flag: 'forward-headers' },
  authDefault: { env: 'REPLYGATE_AUTH_DEFAULT', flag: 'auth-default' },
  apiKeysFile: { env: 'REPLYGATE_API_KEYS_FILE', flag: 'api-keys-file' },
  jwtIssuer: { env: 'REPLYGATE_JWT_ISSUER', flag: 'jwt-issuer' },
  jwtAudience: { env: 'REPLYGATE_JWT_AUDIENCE', flag: 'jwt-audience' },
  jwtJwksUrl: { env: 'REPLYGATE_JWT_JWKS_URL', flag: 'jwt-jwks-url' },
  jwtPublicKeyFile: { env: 'REPLYGATE_JWT_PUBLIC_KEY_FILE', flag: 'jwt-public-key-file' },
  jwtSecretFile: { env: 'REPLYGATE_JWT_SECRET_FILE', flag: 'jwt-secret-file' },
  jwtAlgorithms: { env: 'REPLYGATE_JWT_ALGORITHMS', flag: 'jwt-algorithms' },
  jwtClockSkewSec: { env: 'REPLYGATE_JWT_CLOCK_SKEW_SEC', flag: 'jwt-clock-skew-sec' },
  rateLimitPoints: { env: 'REPLYGATE_RATE_LIMIT_POINTS', flag: 'rate-limit-points' },
  rateLimitDurationSec: { env: 'REPLYGATE_RATE_LIMIT_DURATION_SEC', flag: 'rate-limit-duration-sec' },
  trustProxy: { env: 'REPLYGATE_TRUST_PROXY', flag: 'trust-proxy' },
  headersTimeoutMs: { env: 'REPLYGATE_HEADERS_TIMEOUT_MS', flag: 'headers-timeout-ms' },
  requestTimeoutMs: { env: 'REPLYGATE_REQUEST_TIMEOUT_MS', flag: 'request-timeout-ms' },
  tlsCertFile: { env: 'REPLYGATE_TLS_CERT_FILE', flag: 'tls-cert-file' },
  tlsKeyFile: { env: 'REPLYGATE_TLS_KEY_FILE', flag: 'tls-key-file' },
  adminToken: { env: 'REPLYGATE_ADMIN_TOKEN', flag: 'admin-token' },
  routesWatch: { env: 'REPLYGATE_ROUTES_WATCH', flag: 'routes-watch' },
  requestLog: { env: 'REPLYGATE_REQUEST_LOG', flag: 'request-log' },
  relayLagIntervalMs: { env: 'REPLYGATE_RELAY_LAG_INTERVAL_MS', flag: 'relay-lag-interval-ms' },
  otelEnabled: { env: 'REPLYGATE_OTEL_ENABLED', flag: 'otel-enabled' },
  otelEndpoint: { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', flag: 'otel-endpoint' },
  otelServiceName: { env: 'OTEL_SERVICE_NAME', flag: 'otel-service-name' },
  webhookConcurrency: { env: 'REPLYGATE_WEBHOOK_CONCURRENCY', flag: 'webhook-concurrency' },
  webhookTimeoutMs: { env: 'REPLYGATE_WEBHOOK_TIMEOUT_MS', flag: 'webhook-timeout-ms' },
  webhookRetentionSec: { env: 'REPLYGATE_WEBHOOK_RETENTION_SEC', flag: 'webhook-retention-sec' },
  webhookEvictionCheck: { env: 'REPLYGATE_WEBHOOK_EVICTION_CHECK', flag: 'webhook-eviction-check' },
  wsEnabled: { env: 'REPLYGATE_WS_ENABLED', flag: 'ws-enabled' },
  wsMaxInFlight: { env: 'REPLYGATE_WS_MAX_IN_FLIGHT', flag: 'ws-max-in-flight' },
  wsMaxBufferedBytes: { env: 'REPLYGATE_WS_MAX_BUFFERED_BYTES', flag: 'ws-max-buffered-bytes' },
  wsHeartbeatMs: { env: 'REPLYGATE_WS_HEARTBEAT_MS', flag: 'ws-heartbeat-ms' },
  logLevel: { env: 'LOG_LEVEL', flag: 'log-level' },
};

/** A setting as error messages name it: `KAFKA_BROKERS (--kafka-brokers)`, or only the env name of a secret. */
export function settingName(source: ConfigSource): string {
  return source.flag === undefined ? source.env : `${source.env} (--${source.flag})`;
}
