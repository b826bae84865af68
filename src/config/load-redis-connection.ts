import { ConfigError } from '../errors/startup-errors';
import { settingName } from './config-sources';
import {
  REDIS_CONNECTION_SOURCES,
  redisConnectionIssues,
  redisConnectionSchema,
  type RedisConnectionInput,
  type RedisConnectionSettings,
} from './redis-connection';

/** `REDIS_USERNAME (--redis-username)`; secrets have no flag: `REDIS_PASSWORD`. */
export function redisSettingName(key: keyof RedisConnectionInput): string {
  return settingName(REDIS_CONNECTION_SOURCES[key]);
}

/**
 * The Redis connection settings from the same environment variables the gateway reads
 * (`REDIS_URL`, `REDIS_CLUSTER_NODES`, `REDIS_SENTINELS`, `REDIS_USERNAME`, `REDIS_TLS_*`, …):
 * for the bench, the fault harness and the tests, so each reaches the Redis the gateway uses in
 * the same shape. Throws {@link ConfigError} naming every bad setting (never its value).
 *
 * @example
 * const connections = new RedisConnections(loadRedisConnection(process.env));
 */
export function loadRedisConnection(env: NodeJS.ProcessEnv): RedisConnectionSettings {
  const input: Record<string, string> = {};
  for (const [key, source] of Object.entries(REDIS_CONNECTION_SOURCES)) {
    const value = env[source.env];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = redisConnectionSchema.safeParse(input);
  const issues = result.success
    ? redisConnectionIssues(result.data).map((i) => `${redisSettingName(i.key)}: ${i.message}`)
    : result.error.issues.map(
        (i) => `${redisSettingName(String(i.path[0] ?? '') as keyof RedisConnectionInput)}: ${i.message}`,
      );
  if (!result.success || issues.length > 0) {
    throw new ConfigError(`Invalid Redis connection settings:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}

/** The Redis settings' environment variables present in `env` (to hand to a child process). */
export function redisConnectionEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of Object.values(REDIS_CONNECTION_SOURCES)) {
    const value = env[source.env];
    if (value !== undefined && value !== '') out[source.env] = value;
  }
  return out;
}
