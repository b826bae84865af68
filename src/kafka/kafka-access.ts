import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import type { ConfigSource } from '../config/config-sources';
import type { KafkaConnectionSettings } from '../config/kafka-connection';
import { KAFKA_CONNECTION_SOURCES } from '../config/kafka-connection';
import { StartupError } from '../errors/startup-errors';
import { OauthTokenError } from './oidc-token-provider';
import { errorChain } from './send-errors';

/** A topic the process needs, and what for (said in the error when it is refused). */
export interface TopicNeed {
  topic: string;
  /** The ACL operations this process needs on it, e.g. `DESCRIBE, WRITE`. */
  operations: string;
  /** Which setting names the topic, e.g. `REPLYGATE_REPLY_TOPIC`. */
  setting: ConfigSource;
}

/** A consumer group the process joins or reads. */
export interface GroupNeed {
  groupId: string;
  operations: string;
  setting: ConfigSource;
  /** A topic to ask the group's offsets for (any the principal may describe). */
  topic: string;
}

/** What {@link assertKafkaAccess} checks. */
export interface KafkaAccessCheck {
  /** The client options the process uses (its TLS and SASL included). */
  clientConfig: KafkaConfig;
  connection: KafkaConnectionSettings;
  brokersSetting: ConfigSource;
  topics: readonly TopicNeed[];
  groups: readonly GroupNeed[];
}

const CERT_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const CERT_DATES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * Start-up check of what the process will need from Kafka, so a wrong credential, an untrusted or
 * mismatched certificate, the wrong security protocol or a missing ACL stops the start with a
 * {@link StartupError} naming the setting to fix (and, for ACLs, the topic or group and the
 * operation), instead of surfacing later as timeouts. It connects with the process' own options,
 * retrying little; asks metadata of each topic (a principal without DESCRIBE gets
 * TOPIC_AUTHORIZATION_FAILED even for a topic that does not exist, so this is exact) and the
 * offsets of each group (kafkajs reports the broker's GROUP_AUTHORIZATION_FAILED only in its
 * debug log, which this probe reads). WRITE cannot be checked without writing: a principal with
 * DESCRIBE but not WRITE is refused at its first publish (503, the topic and the operation logged).
 */
export async function assertKafkaAccess(check: KafkaAccessCheck): Promise<void> {
  const groupRefusals = new Set<string>();
  const probe = new Kafka({
    ...check.clientConfig,
    clientId: `${check.clientConfig.clientId ?? 'replygate'}-access-check`,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1000 },
    logLevel: KafkaLogLevel.DEBUG,
    logCreator: () => (entry: LogEntry) => {
      const error = (entry.log as { error?: { type?: string } }).error;
      const groupId = (entry.log as { groupId?: string }).groupId;
      if (error?.type === 'GROUP_AUTHORIZATION_FAILED' && groupId !== undefined) groupRefusals.add(groupId);
    },
  });
  const brokers = Array.isArray(check.clientConfig.brokers) ? check.clientConfig.brokers.join(',') : '';
  const admin = probe.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw connectionFailure(err, check, brokers);
  }
  try {
    for (const need of check.topics) {
      try {
        await admin.fetchTopicMetadata({ topics: [need.topic] });
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE') continue;
        if (type === 'TOPIC_AUTHORIZATION_FAILED') {
          throw new StartupError(
            [need.setting, ...principalSettings(check.connection)],
            brokers,
            `topic "${need.topic}": not authorized for ${principal(check.connection)}, which needs ${need.operations} on it (TOPIC_AUTHORIZATION_FAILED; docs/OPERATIONS.md, "Minimal ACLs")`,
          );
        }
        throw connectionFailure(err, check, brokers);
      }
    }
    for (const need of check.groups) {
      try {
        await admin.fetchOffsets({ groupId: need.groupId, topics: [need.topic] });
      } catch (err) {
        if (groupRefusals.has(need.groupId)) {
          throw new StartupError(
            [need.setting, ...principalSettings(check.connection)],
            brokers,
            `consumer group "${need.groupId}": not authorized for ${principal(check.connection)}, which needs ${need.operations} on it (GROUP_AUTHORIZATION_FAILED; docs/OPERATIONS.md, "Minimal ACLs")`,
          );
        }
        const type = (err as { type?: string }).type;
        if (type === 'TOPIC_AUTHORIZATION_FAILED') continue; // the topic check above says it better
        // Anything else (a coordinator still loading) is the consumer's to retry.
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * What creating a missing topic at start-up (the reply topic, `ensureTopic`) threw, explained when
 * the broker refused it for want of CREATE: a {@link StartupError} naming the topic's setting, the
 * principal and the operation. kafkajs says only "Topic creation errors". Anything else is returned
 * as it is.
 */
export function explainCreateRefusal(err: unknown, check: KafkaAccessCheck, topic: string): unknown {
  const refused = errorChain(err)
    .flatMap((e) => [
      e,
      ...((e as { errors?: unknown }).errors instanceof Array ? (e as { errors: unknown[] }).errors : []),
    ])
    .map((e) => (e as { type?: unknown }).type)
    .find((t) => t === 'TOPIC_AUTHORIZATION_FAILED' || t === 'CLUSTER_AUTHORIZATION_FAILED');
  if (refused === undefined) return err;
  const setting = check.topics.find((t) => t.topic === topic)?.setting ?? check.brokersSetting;
  const brokers = Array.isArray(check.clientConfig.brokers) ? check.clientConfig.brokers.join(',') : '';
  return new StartupError(
    [setting, ...principalSettings(check.connection)],
    brokers,
    `topic "${topic}" does not exist and ${principal(check.connection)} may not create it (${refused}): pre-create it, or grant CREATE on it (docs/OPERATIONS.md, "Minimal ACLs")`,
    { cause: err },
  );
}

/** The principal the broker sees, in words: `User:replygate`, a certificate subject, an OAuth client. */
function principal(c: KafkaConnectionSettings): string {
  if (c.kafkaSaslMechanism === 'OAUTHBEARER') {
    return c.kafkaOauthClientId === undefined
      ? 'the principal of the OAuth token'
      : `the OAuth client "${c.kafkaOauthClientId}" (principal: its token's subject)`;
  }
  if (c.kafkaSaslMechanism !== undefined) return `principal User:${c.kafkaSaslUsername ?? '?'}`;
  if (c.kafkaTlsCertFile !== undefined) {
    try {
      const subject = new X509Certificate(readFileSync(c.kafkaTlsCertFile)).subject.replace(/\n/g, ',');
      return `the client certificate "${subject}" (principal per the broker's ssl.principal.mapping.rules)`;
    } catch {
      return 'the client certificate';
    }
  }
  return 'principal User:ANONYMOUS';
}

function principalSettings(c: KafkaConnectionSettings): ConfigSource[] {
  const s = KAFKA_CONNECTION_SOURCES;
  if (c.kafkaSaslMechanism === 'OAUTHBEARER') {
    return c.kafkaOauthProviderModule !== undefined ? [s.kafkaOauthProviderModule] : [s.kafkaOauthClientId];
  }
  if (c.kafkaSaslMechanism !== undefined) return [s.kafkaSaslUsername];
  if (c.kafkaTlsCertFile !== undefined) return [s.kafkaTlsCertFile];
  return [s.kafkaSecurityProtocol];
}

function credentialSettings(c: KafkaConnectionSettings): ConfigSource[] {
  const s = KAFKA_CONNECTION_SOURCES;
  if (c.kafkaSaslMechanism === 'OAUTHBEARER') {
    if (c.kafkaOauthProviderModule !== undefined) return [s.kafkaOauthProviderModule];
    return [
      s.kafkaOauthClientId,
      c.kafkaOauthClientSecretFile !== undefined ? s.kafkaOauthClientSecretFile : s.kafkaOauthClientSecret,
    ];
  }
  return [s.kafkaSaslUsername, c.kafkaSaslPasswordFile !== undefined ? s.kafkaSaslPasswordFile : s.kafkaSaslPassword];
}

/** A failure to connect or authenticate, named by the setting to fix. */
function connectionFailure(err: unknown, check: KafkaAccessCheck, brokers: string): StartupError {
  const c = check.connection;
  const s = KAFKA_CONNECTION_SOURCES;
  const errors = errorChain(err);
  const codes = errors.map((e) => e.code).filter((x): x is string => typeof x === 'string');
  const names = errors.map((e) => e.name);
  const types = errors.map((e) => e.type);
  const message = errors.map((e) => (e instanceof Error ? e.message : String(e))).join(' / ');
  const fail = (settings: ConfigSource[], problem: string) =>
    new StartupError(settings, brokers, problem, { cause: err });

  const oauth = errors.find((e) => e instanceof OauthTokenError);
  if (oauth !== undefined) return fail([s.kafkaOauthTokenUrl, ...credentialSettings(c)], (oauth as Error).message);
  if (types.includes('UNSUPPORTED_SASL_MECHANISM')) {
    return fail(
      [s.kafkaSaslMechanism],
      `the broker does not enable SASL mechanism ${c.kafkaSaslMechanism ?? '?'} on this listener`,
    );
  }
  if (names.includes('KafkaJSSASLAuthenticationError') || types.includes('SASL_AUTHENTICATION_FAILED')) {
    return fail(
      credentialSettings(c),
      /authentication failed/i.test(message)
        ? message
        : `SASL ${c.kafkaSaslMechanism ?? ''} authentication failed: ${message}`,
    );
  }
  const code = codes.find(
    (x) => CERT_UNTRUSTED.has(x) || CERT_DATES.has(x) || x.startsWith('ERR_TLS') || x.startsWith('ERR_SSL'),
  );
  if (code !== undefined) {
    if (CERT_UNTRUSTED.has(code)) {
      return fail([s.kafkaTlsCaFile], `the broker's certificate is not trusted (${code}): give the CA that signed it`);
    }
    if (CERT_DATES.has(code)) return fail([s.kafkaTlsCaFile], `the broker's certificate is not valid now (${code})`);
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return fail(
        [s.kafkaTlsServername, check.brokersSetting],
        `the broker's certificate does not name the host checked (${message.replace(/^.*?Hostname/, 'Hostname')})`,
      );
    }
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|UNKNOWN_PROTOCOL/.test(code)) {
      return fail(
        [s.kafkaSecurityProtocol],
        `the broker does not speak TLS on this port (${code}); is its listener PLAINTEXT or SASL_PLAINTEXT?`,
      );
    }
    if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE/.test(code)) {
      return fail(
        [s.kafkaTlsCertFile],
        `the broker refused the TLS handshake (${code}): it wants a client certificate it trusts`,
      );
    }
    return fail([s.kafkaSecurityProtocol], `TLS failed (${code}): ${message}`);
  }
  if (/Closed connection|connection closed|ECONNRESET|socket hang up|Connection timeout/i.test(message)) {
    const tls = c.kafkaSecurityProtocol === 'SSL' || c.kafkaSecurityProtocol === 'SASL_SSL';
    const sasl = c.kafkaSecurityProtocol.startsWith('SASL_');
    return fail(
      [s.kafkaSecurityProtocol],
      `the broker closed the connection during set-up; it is ${c.kafkaSecurityProtocol} here: does the listener expect ${
        tls ? (sasl ? 'no TLS, or no SASL' : 'SASL (SASL_SSL), or no TLS') : sasl ? 'TLS (SASL_SSL)' : 'TLS or SASL'
      }? (${message})`,
    );
  }
  return fail([check.brokersSetting], message);
}
