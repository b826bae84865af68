import { ConfigError } from '../errors/startup-errors';
import { settingName } from './config-sources';
import {
  KAFKA_CONNECTION_SOURCES,
  kafkaConnectionIssues,
  kafkaConnectionSchema,
  type KafkaConnectionInput,
  type KafkaConnectionSettings,
} from './kafka-connection';

/** How a setting is named in error messages: its env variable and flag, or an option name. */
export type SettingNamer = (key: keyof KafkaConnectionInput) => string;

/** `KAFKA_SASL_USERNAME (--kafka-sasl-username)`; secrets have no flag: `KAFKA_SASL_PASSWORD`. */
export const envSettingName: SettingNamer = (key) => settingName(KAFKA_CONNECTION_SOURCES[key]);

/**
 * Validate connection settings given as an object (the responder kit's `connection` option, or
 * values read from the environment). Throws {@link ConfigError} naming every bad setting.
 *
 * @example
 * const connection = parseKafkaConnection({ kafkaSecurityProtocol: 'SASL_SSL', ... });
 */
export function parseKafkaConnection(
  input: KafkaConnectionInput,
  nameOf: SettingNamer = (key) => key,
): KafkaConnectionSettings {
  const result = kafkaConnectionSchema.safeParse(input);
  const issues = result.success
    ? kafkaConnectionIssues(result.data).map((i) => `${nameOf(i.key)}: ${i.message}`)
    : result.error.issues.map((i) => `${nameOf(String(i.path[0] ?? '') as keyof KafkaConnectionInput)}: ${i.message}`);
  if (!result.success || issues.length > 0) {
    throw new ConfigError(`Invalid Kafka connection settings:\n  ${issues.join('\n  ')}`, issues);
  }
  return result.data;
}

/**
 * The Kafka connection settings from the same environment variables the gateway reads
 * (`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_*`, `KAFKA_TLS_*`, `KAFKA_OAUTH_*`): for the responder
 * kit's users, the samples, the demo, the bench and the fault harness. `flags` (by flag name, e.g.
 * `kafka-sasl-mechanism`, as `parseArgs` gives them) win over the environment; secrets have no flag.
 *
 * @example
 * createResponder({ brokers, connection: loadKafkaConnection(process.env), topic, groupId, handler });
 */
export function loadKafkaConnection(
  env: NodeJS.ProcessEnv,
  flags: Readonly<Record<string, unknown>> = {},
): KafkaConnectionSettings {
  const input: Record<string, string> = {};
  for (const [key, source] of Object.entries(KAFKA_CONNECTION_SOURCES)) {
    const flag = source.flag === undefined ? undefined : flags[source.flag];
    const value = typeof flag === 'string' ? flag : env[source.env];
    if (value !== undefined && value !== '') input[key] = value;
  }
  return parseKafkaConnection(input as KafkaConnectionInput, envSettingName);
}

/** The connection settings' environment variables present in `env` (to hand to a child process). */
export function kafkaConnectionEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of Object.values(KAFKA_CONNECTION_SOURCES)) {
    const value = env[source.env];
    if (value !== undefined && value !== '') out[source.env] = value;
  }
  return out;
}

/** The connection settings' flag names (secrets have none): for a tool's `parseArgs` options. */
export const KAFKA_CONNECTION_FLAGS: readonly string[] = Object.values(KAFKA_CONNECTION_SOURCES).flatMap((s) =>
  s.flag === undefined ? [] : [s.flag],
);
