import { ConfigError } from '../errors/startup-errors';
import { newInstanceId } from '../protocol/correlation-id';
import { CONFIG_SOURCES, settingName } from './config-sources';
import { kafkaConnectionIssues } from './kafka-connection';
import { DEFAULT_REDIS_URL, redisConnectionIssues, redisMode } from './redis-connection';
import { gatewayConfigSchema, type GatewayConfig, type GatewayConfigInput } from './gateway-config';

/**
 * Build the gateway configuration from environment variables and command-line values
 * (flags win over env), apply defaults and validate. Throws {@link ConfigError} naming every bad
 * field by its env name and flag.
 *
 * @example
 * const config = loadGatewayConfig(process.env, { role: 'relay' });
 */
export function loadGatewayConfig(
  env: NodeJS.ProcessEnv,
  flags: Partial<Record<keyof GatewayConfigInput, string | boolean>> = {},
): GatewayConfig {
  const input: Record<string, unknown> = {};
  for (const [key, source] of Object.entries(CONFIG_SOURCES)) {
    const fromFlag = flags[key as keyof GatewayConfigInput];
    const fromEnv = env[source.env];
    const value = fromFlag ?? (fromEnv === '' ? undefined : fromEnv);
    if (value !== undefined) input[key] = value;
  }
  const result = gatewayConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const source = CONFIG_SOURCES[key as keyof GatewayConfigInput];
      return `${source ? settingName(source) : key}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  const config = result.data;
  const combination = [...kafkaConnectionIssues(config), ...redisConnectionIssues(config)].map(
    (i) => `${settingName(CONFIG_SOURCES[i.key])}: ${i.message}`,
  );
  if (combination.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  ${combination.join('\n  ')}`, combination);
  }
  if (config.relayGroupIndex >= config.relayGroups) {
    const msg = `${settingName(CONFIG_SOURCES.relayGroupIndex)}: ${config.relayGroupIndex} is not a group of ${settingName(CONFIG_SOURCES.relayGroups)}=${config.relayGroups} (use 0 to ${config.relayGroups - 1})`;
    throw new ConfigError(`Invalid configuration:\n  ${msg}`, [msg]);
  }
  if ((config.role === 'all' || config.role === 'http') && config.routesFile === undefined) {
    const msg = `REPLYGATE_ROUTES (--routes): required for role "${config.role}"`;
    throw new ConfigError(`Invalid configuration:\n  ${msg}`, [msg]);
  }
  // The default single Redis applies only when no other shape was asked for (REDIS_URL beside
  // REDIS_CLUSTER_NODES or REDIS_SENTINELS is refused above, so it cannot be told apart later).
  const redisUrl = config.redisUrl ?? (redisMode(config) === 'standalone' ? DEFAULT_REDIS_URL : undefined);
  return { ...config, redisUrl, instanceId: config.instanceId ?? newInstanceId() };
}
