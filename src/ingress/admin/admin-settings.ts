import type { GatewayConfig } from '../../config/gateway-config';
import { ownRelayGroup, relayGroupIds } from '../../config/relay-groups';
import { redisAddress, redisMode, redisTlsOn } from '../../config/redis-connection';

/**
 * The settings `GET /admin/settings` shows. Fields are picked one by one, never spread from the
 * config, so a secret added to the config later (a token, a password in a URL) cannot leak here.
 */
export function adminSettings(config: GatewayConfig): Record<string, unknown> {
  return {
    instanceId: config.instanceId,
    role: config.role,
    routesFile: config.routesFile ?? null,
    replyTopic: config.replyTopic,
    replyTopicPartitions: config.replyTopicPartitions,
    relayGroupId: config.relayGroupId,
    relayGroups: relayGroupIds(config),
    relayGroup: config.role === 'http' ? null : ownRelayGroup(config),
    relaySessionTimeoutMs: config.relaySessionTimeoutMs,
    timeoutMs: config.timeoutMs,
    replyTtlMs: config.replyTtlMs,
    keyPrefix: config.keyPrefix,
    maxBodyBytes: config.maxBodyBytes,
    maxReplyBytes: config.maxReplyBytes,
    maxPending: config.maxPending,
    maxWatchers: config.maxWatchers,
    maxWatchersPerReply: config.maxWatchersPerReply,
    shutdownGraceMs: config.shutdownGraceMs,
    forwardHeaders: config.forwardHeaders,
    // Where Redis is, never how to log in: the address has no password, and no credential setting is listed.
    redis: {
      mode: redisMode(config),
      address: redisAddress(config),
      username: config.redisUsername ?? null,
      tls: redisTlsOn(config),
    },
    redisCheck: config.redisCheck,
    redisConfigure: config.redisConfigure,
    notifyCheckIntervalMs: config.notifyCheckIntervalMs,
    routesWatch: config.routesWatch,
    requestLog: config.requestLog,
    relayLagIntervalMs: config.relayLagIntervalMs,
    otelEnabled: config.otelEnabled,
    logLevel: config.logLevel,
  };
}
