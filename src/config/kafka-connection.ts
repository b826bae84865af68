import { z } from 'zod';
import { secretGivenTwice } from './setting-files';

/** Kafka's `security.protocol` values: TLS and SASL each on or off. */
export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
/** SASL mechanisms replygate speaks to brokers (kafkajs' own, minus AWS's deprecated `aws`). */
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number];
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

const upper = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);
const bool = z.union([z.boolean(), z.stringbool()]);
const path = z.string().min(1);

/**
 * How every Kafka client of the project connects: TLS and SASL. Declared once here; the gateway
 * schema spreads it, and the responder kit, the samples, the demo, the bench and the fault
 * harness read the same settings (see `loadKafkaConnection`). Secrets are only ever read from a
 * file (`…_FILE`) or from an environment variable, never from a flag, which `ps` shows.
 */
export const kafkaConnectionShape = {
  /**
   * `KAFKA_SECURITY_PROTOCOL`: Kafka's `security.protocol`: `PLAINTEXT`, `SSL` (TLS, with a client
   * certificate for mTLS), `SASL_PLAINTEXT` or `SASL_SSL`. @defaultValue `PLAINTEXT`
   */
  kafkaSecurityProtocol: z.preprocess(upper, z.enum(KAFKA_SECURITY_PROTOCOLS)).default('PLAINTEXT'),
  /** `KAFKA_TLS_CA_FILE`: PEM file of the CAs that sign the brokers' certificates. @defaultValue Node's public CAs */
  kafkaTlsCaFile: path.optional(),
  /** `KAFKA_TLS_CERT_FILE`: PEM client certificate (chain) for mTLS; needs `KAFKA_TLS_KEY_FILE`. */
  kafkaTlsCertFile: path.optional(),
  /** `KAFKA_TLS_KEY_FILE`: PEM private key of the client certificate. */
  kafkaTlsKeyFile: path.optional(),
  /** `KAFKA_TLS_KEY_PASSWORD_FILE`: file holding the passphrase of an encrypted `KAFKA_TLS_KEY_FILE`. */
  kafkaTlsKeyPasswordFile: path.optional(),
  /**
   * `KAFKA_TLS_SERVERNAME`: host name the brokers' certificates are checked against (and sent as
   * SNI) instead of the address dialled: brokers reached through a tunnel or by IP.
   */
  kafkaTlsServername: z.string().min(1).optional(),
  /**
   * `KAFKA_TLS_INSECURE_SKIP_VERIFY`: accept any broker certificate. For a throwaway test broker
   * only: anyone on the path can then read and forge traffic. Logged as a warning at every start.
   * @defaultValue false
   */
  kafkaTlsInsecureSkipVerify: bool.default(false),
  /** `KAFKA_SASL_MECHANISM`: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`; needs a `SASL_*` protocol. */
  kafkaSaslMechanism: z.preprocess(upper, z.enum(KAFKA_SASL_MECHANISMS)).optional(),
  /** `KAFKA_SASL_USERNAME`: user name for `PLAIN` and `SCRAM-*`. */
  kafkaSaslUsername: z.string().min(1).optional(),
  /** `KAFKA_SASL_PASSWORD_FILE`: file holding the password for `PLAIN` and `SCRAM-*` (one trailing newline is ignored). */
  kafkaSaslPasswordFile: path.optional(),
  /** `KAFKA_SASL_PASSWORD`: the password itself, environment only (no flag); prefer the file. */
  kafkaSaslPassword: z.string().min(1).optional(),
  /** `KAFKA_OAUTH_TOKEN_URL`: OIDC token endpoint for `OAUTHBEARER` (client-credentials grant). */
  kafkaOauthTokenUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** `KAFKA_OAUTH_CLIENT_ID`: OAuth client id; the broker's principal is normally the token's `sub`. */
  kafkaOauthClientId: z.string().min(1).optional(),
  /** `KAFKA_OAUTH_CLIENT_SECRET_FILE`: file holding the OAuth client secret. */
  kafkaOauthClientSecretFile: path.optional(),
  /** `KAFKA_OAUTH_CLIENT_SECRET`: the client secret itself, environment only (no flag); prefer the file. */
  kafkaOauthClientSecret: z.string().min(1).optional(),
  /** `KAFKA_OAUTH_SCOPE`: `scope` asked for with the token (space separated), if the provider needs one. */
  kafkaOauthScope: z.string().min(1).optional(),
  /**
   * `KAFKA_OAUTH_PROVIDER_MODULE`: instead of the built-in client-credentials flow, a module whose
   * `createOauthBearerProvider()` returns the kafkajs token provider (Amazon MSK IAM and other
   * signers; README, "Kafka security").
   */
  kafkaOauthProviderModule: path.optional(),
};

/** The connection settings as one zod object (for components that need only these). */
export const kafkaConnectionSchema = z.object(kafkaConnectionShape);

/** Validated Kafka connection settings (every client of the project takes these). */
export type KafkaConnectionSettings = z.output<typeof kafkaConnectionSchema>;
/** Connection settings as given (strings from env or flags, or typed values from code). */
export type KafkaConnectionInput = z.input<typeof kafkaConnectionSchema>;

/** Connection settings that are secrets: read from the environment only, never from a flag. */
export const KAFKA_SECRET_SETTINGS = ['kafkaSaslPassword', 'kafkaOauthClientSecret'] as const;

/** Where each connection setting comes from. */
export const KAFKA_CONNECTION_SOURCES: Record<keyof KafkaConnectionInput, { env: string; flag?: string }> = {
  kafkaSecurityProtocol: { env: 'KAFKA_SECURITY_PROTOCOL', flag: 'kafka-security-protocol' },
  kafkaTlsCaFile: { env: 'KAFKA_TLS_CA_FILE', flag: 'kafka-tls-ca-file' },
  kafkaTlsCertFile: { env: 'KAFKA_TLS_CERT_FILE', flag: 'kafka-tls-cert-file' },
  kafkaTlsKeyFile: { env: 'KAFKA_TLS_KEY_FILE', flag: 'kafka-tls-key-file' },
  kafkaTlsKeyPasswordFile: { env: 'KAFKA_TLS_KEY_PASSWORD_FILE', flag: 'kafka-tls-key-password-file' },
  kafkaTlsServername: { env: 'KAFKA_TLS_SERVERNAME', flag: 'kafka-tls-servername' },
  kafkaTlsInsecureSkipVerify: { env: 'KAFKA_TLS_INSECURE_SKIP_VERIFY', flag: 'kafka-tls-insecure-skip-verify' },
  kafkaSaslMechanism: { env: 'KAFKA_SASL_MECHANISM', flag: 'kafka-sasl-mechanism' },
  kafkaSaslUsername: { env: 'KAFKA_SASL_USERNAME', flag: 'kafka-sasl-username' },
  kafkaSaslPasswordFile: { env: 'KAFKA_SASL_PASSWORD_FILE', flag: 'kafka-sasl-password-file' },
  kafkaSaslPassword: { env: 'KAFKA_SASL_PASSWORD' },
  kafkaOauthTokenUrl: { env: 'KAFKA_OAUTH_TOKEN_URL', flag: 'kafka-oauth-token-url' },
  kafkaOauthClientId: { env: 'KAFKA_OAUTH_CLIENT_ID', flag: 'kafka-oauth-client-id' },
  kafkaOauthClientSecretFile: { env: 'KAFKA_OAUTH_CLIENT_SECRET_FILE', flag: 'kafka-oauth-client-secret-file' },
  kafkaOauthClientSecret: { env: 'KAFKA_OAUTH_CLIENT_SECRET' },
  kafkaOauthScope: { env: 'KAFKA_OAUTH_SCOPE', flag: 'kafka-oauth-scope' },
  kafkaOauthProviderModule: { env: 'KAFKA_OAUTH_PROVIDER_MODULE', flag: 'kafka-oauth-provider-module' },
};

/** One combination problem, by setting key. */
export interface ConnectionIssue {
  key: keyof KafkaConnectionInput;
  message: string;
}

/**
 * Settings that are each valid but do not fit together (SASL settings on a protocol without SASL,
 * a certificate without its key, a mechanism without its credentials). Checked wherever the
 * settings are loaded, so a gateway and a responder refuse the same mistakes the same way.
 */
export function kafkaConnectionIssues(s: KafkaConnectionSettings): ConnectionIssue[] {
  const issues: ConnectionIssue[] = [];
  const tls = s.kafkaSecurityProtocol === 'SSL' || s.kafkaSecurityProtocol === 'SASL_SSL';
  const sasl = s.kafkaSecurityProtocol.startsWith('SASL_');
  const protocolNeeds = (key: keyof KafkaConnectionInput, what: string) =>
    issues.push({ key, message: `needs KAFKA_SECURITY_PROTOCOL ${what} (it is ${s.kafkaSecurityProtocol})` });

  if (!tls) {
    for (const key of [
      'kafkaTlsCaFile',
      'kafkaTlsCertFile',
      'kafkaTlsKeyFile',
      'kafkaTlsKeyPasswordFile',
      'kafkaTlsServername',
    ] as const) {
      if (s[key] !== undefined) protocolNeeds(key, 'SSL or SASL_SSL');
    }
    if (s.kafkaTlsInsecureSkipVerify) protocolNeeds('kafkaTlsInsecureSkipVerify', 'SSL or SASL_SSL');
  }
  if ((s.kafkaTlsCertFile === undefined) !== (s.kafkaTlsKeyFile === undefined)) {
    issues.push({
      key: s.kafkaTlsCertFile === undefined ? 'kafkaTlsCertFile' : 'kafkaTlsKeyFile',
      message: 'a client certificate needs both KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE',
    });
  }
  if (s.kafkaTlsKeyPasswordFile !== undefined && s.kafkaTlsKeyFile === undefined) {
    issues.push({ key: 'kafkaTlsKeyPasswordFile', message: 'only with KAFKA_TLS_KEY_FILE' });
  }

  const mechanism = s.kafkaSaslMechanism;
  if (sasl && mechanism === undefined) {
    issues.push({
      key: 'kafkaSaslMechanism',
      message: `required with ${s.kafkaSecurityProtocol}: one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
    });
  }
  if (!sasl && mechanism !== undefined) protocolNeeds('kafkaSaslMechanism', 'SASL_PLAINTEXT or SASL_SSL');

  const password = mechanism === 'PLAIN' || mechanism === 'SCRAM-SHA-256' || mechanism === 'SCRAM-SHA-512';
  const userKeys = ['kafkaSaslUsername', 'kafkaSaslPasswordFile', 'kafkaSaslPassword'] as const;
  if (password) {
    if (s.kafkaSaslUsername === undefined)
      issues.push({ key: 'kafkaSaslUsername', message: `required for ${mechanism}` });
    if (s.kafkaSaslPasswordFile === undefined && s.kafkaSaslPassword === undefined) {
      issues.push({
        key: 'kafkaSaslPasswordFile',
        message: `required for ${mechanism} (or KAFKA_SASL_PASSWORD in the environment)`,
      });
    }
    const twice = secretGivenTwice(
      s,
      'kafkaSaslPasswordFile',
      'kafkaSaslPassword',
      KAFKA_CONNECTION_SOURCES,
      'password',
    );
    if (twice !== undefined) issues.push(twice);
  } else if (sasl || mechanism !== undefined) {
    for (const key of userKeys) {
      if (s[key] !== undefined)
        issues.push({ key, message: `only for PLAIN and SCRAM-* (KAFKA_SASL_MECHANISM is ${mechanism ?? 'unset'})` });
    }
  }

  const oauthKeys = [
    'kafkaOauthTokenUrl',
    'kafkaOauthClientId',
    'kafkaOauthClientSecretFile',
    'kafkaOauthClientSecret',
    'kafkaOauthScope',
  ] as const;
  if (mechanism === 'OAUTHBEARER') {
    if (s.kafkaOauthProviderModule !== undefined) {
      for (const key of oauthKeys) {
        if (s[key] !== undefined)
          issues.push({ key, message: 'not used with KAFKA_OAUTH_PROVIDER_MODULE: give one or the other' });
      }
    } else {
      if (s.kafkaOauthTokenUrl === undefined) {
        issues.push({
          key: 'kafkaOauthTokenUrl',
          message: 'required for OAUTHBEARER (or KAFKA_OAUTH_PROVIDER_MODULE)',
        });
      }
      if (s.kafkaOauthClientId === undefined)
        issues.push({ key: 'kafkaOauthClientId', message: 'required for OAUTHBEARER' });
      if (s.kafkaOauthClientSecretFile === undefined && s.kafkaOauthClientSecret === undefined) {
        issues.push({
          key: 'kafkaOauthClientSecretFile',
          message: 'required for OAUTHBEARER (or KAFKA_OAUTH_CLIENT_SECRET in the environment)',
        });
      }
      const twice = secretGivenTwice(
        s,
        'kafkaOauthClientSecretFile',
        'kafkaOauthClientSecret',
        KAFKA_CONNECTION_SOURCES,
        'secret',
      );
      if (twice !== undefined) issues.push(twice);
    }
  } else {
    for (const key of [...oauthKeys, 'kafkaOauthProviderModule'] as const) {
      if (s[key] !== undefined) {
        issues.push({ key, message: `only for OAUTHBEARER (KAFKA_SASL_MECHANISM is ${mechanism ?? 'unset'})` });
      }
    }
  }
  return issues;
}
