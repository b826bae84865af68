import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { Mechanism, SASLOptions } from 'kafkajs';
import type { KafkaConnectionInput, KafkaConnectionSettings } from '../config/kafka-connection';
import { envSettingName, type SettingNamer } from '../config/load-kafka-connection';
import { readNamedFile, readSecretFile, type SettingFileError } from '../config/setting-files';
import { ConfigError } from '../errors/startup-errors';
import type { Logger } from '../observability/logger';
import { oauthBearerMechanism } from './oauthbearer-authenticator';
import { createOidcTokenProvider, type OauthBearerProvider } from './oidc-token-provider';

/** The TLS and SASL parts of a kafkajs client's options. */
export interface KafkaSecurityOptions {
  ssl?: ConnectionOptions;
  sasl?: SASLOptions | Mechanism;
}

/** What a `KAFKA_OAUTH_PROVIDER_MODULE` module exports. */
export interface OauthBearerProviderModule {
  createOauthBearerProvider: (context: { log: Logger }) => OauthBearerProvider | Promise<OauthBearerProvider>;
}

/**
 * Turn connection settings into kafkajs `ssl` and `sasl` options: files are read and checked now
 * (a missing CA file, a key that does not match its certificate or a wrong key passphrase fail
 * here, naming the setting), secrets are kept only in the options object handed to kafkajs.
 * Options that weaken security are logged as warnings each time a client is built, i.e. at every
 * start. Throws {@link ConfigError}.
 */
export function kafkaSecurityOptions(
  s: KafkaConnectionSettings,
  log: Logger,
  nameOf: SettingNamer = envSettingName,
): KafkaSecurityOptions {
  const out: KafkaSecurityOptions = {};
  const tls = s.kafkaSecurityProtocol === 'SSL' || s.kafkaSecurityProtocol === 'SASL_SSL';
  if (tls) out.ssl = tlsOptions(s, log, nameOf);
  if (s.kafkaSecurityProtocol.startsWith('SASL_') && s.kafkaSaslMechanism !== undefined) {
    out.sasl = saslOptions(s, log, nameOf);
    if (s.kafkaSecurityProtocol === 'SASL_PLAINTEXT' && s.kafkaSaslMechanism === 'PLAIN') {
      log.warn(
        { setting: nameOf('kafkaSecurityProtocol') },
        'Kafka SASL PLAIN over SASL_PLAINTEXT sends the password unencrypted: use SASL_SSL outside a trusted network',
      );
    }
  }
  return out;
}

function tlsOptions(s: KafkaConnectionSettings, log: Logger, nameOf: SettingNamer): ConnectionOptions {
  const ssl: ConnectionOptions = {};
  if (s.kafkaTlsCaFile !== undefined) {
    const ca = readSettingFile('kafkaTlsCaFile', s.kafkaTlsCaFile, nameOf);
    parseCertificate('kafkaTlsCaFile', s.kafkaTlsCaFile, ca, nameOf);
    ssl.ca = [ca];
  }
  if (s.kafkaTlsCertFile !== undefined && s.kafkaTlsKeyFile !== undefined) {
    const cert = readSettingFile('kafkaTlsCertFile', s.kafkaTlsCertFile, nameOf);
    const key = readSettingFile('kafkaTlsKeyFile', s.kafkaTlsKeyFile, nameOf);
    const passphrase =
      s.kafkaTlsKeyPasswordFile === undefined
        ? undefined
        : secretFromFile('kafkaTlsKeyPasswordFile', s.kafkaTlsKeyPasswordFile, nameOf);
    const certificate = parseCertificate('kafkaTlsCertFile', s.kafkaTlsCertFile, cert, nameOf);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(passphrase === undefined ? { key } : { key, passphrase });
    } catch (err) {
      // OpenSSL 3 reports a missing passphrase as "interrupted or cancelled".
      const encrypted =
        s.kafkaTlsKeyPasswordFile !== undefined ||
        /ENCRYPTED/.test(key.toString('latin1', 0, 64)) ||
        /passphrase|decrypt|interrupted or cancelled/i.test((err as Error).message);
      throw settingError(
        encrypted ? 'kafkaTlsKeyPasswordFile' : 'kafkaTlsKeyFile',
        encrypted ? (s.kafkaTlsKeyPasswordFile ?? s.kafkaTlsKeyFile) : s.kafkaTlsKeyFile,
        encrypted
          ? `cannot decrypt the private key ${s.kafkaTlsKeyFile} (wrong or missing passphrase)`
          : 'not a PEM private key',
        nameOf,
        err,
      );
    }
    if (!certificate.checkPrivateKey(privateKey)) {
      throw settingError(
        'kafkaTlsKeyFile',
        s.kafkaTlsKeyFile,
        `this key does not belong to the certificate in ${nameOf('kafkaTlsCertFile')} ${s.kafkaTlsCertFile}`,
        nameOf,
      );
    }
    ssl.cert = cert;
    ssl.key = key;
    if (passphrase !== undefined) ssl.passphrase = passphrase;
  }
  if (s.kafkaTlsServername !== undefined) {
    ssl.servername = s.kafkaTlsServername;
    const servername = s.kafkaTlsServername;
    // Node checks the certificate against the host dialled unless told otherwise; the override
    // makes the check use the name operators gave, for every broker.
    ssl.checkServerIdentity = (_host, cert) => checkServerIdentity(servername, cert);
  }
  if (s.kafkaTlsInsecureSkipVerify) {
    ssl.rejectUnauthorized = false;
    log.warn(
      { setting: nameOf('kafkaTlsInsecureSkipVerify') },
      'Kafka TLS certificate checks are OFF: any broker certificate is accepted, so traffic can be read and forged on the way; for throwaway test brokers only',
    );
  }
  return ssl;
}

function saslOptions(s: KafkaConnectionSettings, log: Logger, nameOf: SettingNamer): SASLOptions | Mechanism {
  switch (s.kafkaSaslMechanism) {
    case 'PLAIN':
    case 'SCRAM-SHA-256':
    case 'SCRAM-SHA-512': {
      const username = s.kafkaSaslUsername ?? '';
      const password =
        s.kafkaSaslPasswordFile !== undefined
          ? secretFromFile('kafkaSaslPasswordFile', s.kafkaSaslPasswordFile, nameOf)
          : (s.kafkaSaslPassword ?? '');
      const mechanism = s.kafkaSaslMechanism === 'PLAIN' ? 'plain' : s.kafkaSaslMechanism.toLowerCase();
      return { mechanism, username, password } as SASLOptions;
    }
    case 'OAUTHBEARER':
      return oauthBearerMechanism(oauthProvider(s, log, nameOf));
    default:
      throw settingError('kafkaSaslMechanism', String(s.kafkaSaslMechanism), 'unknown mechanism', nameOf);
  }
}

function oauthProvider(s: KafkaConnectionSettings, log: Logger, nameOf: SettingNamer): OauthBearerProvider {
  if (s.kafkaOauthProviderModule !== undefined) {
    const modulePath = s.kafkaOauthProviderModule;
    let provider: Promise<OauthBearerProvider> | undefined;
    return async () => {
      provider ??= loadProviderModule(modulePath, log, nameOf);
      return (await provider)();
    };
  }
  const clientSecret =
    s.kafkaOauthClientSecretFile !== undefined
      ? secretFromFile('kafkaOauthClientSecretFile', s.kafkaOauthClientSecretFile, nameOf)
      : (s.kafkaOauthClientSecret ?? '');
  return createOidcTokenProvider(
    {
      tokenUrl: s.kafkaOauthTokenUrl ?? '',
      clientId: s.kafkaOauthClientId ?? '',
      clientSecret,
      ...(s.kafkaOauthScope === undefined ? {} : { scope: s.kafkaOauthScope }),
    },
    log,
    { setting: nameOf('kafkaOauthTokenUrl') },
  );
}

async function loadProviderModule(path: string, log: Logger, nameOf: SettingNamer): Promise<OauthBearerProvider> {
  const full = isAbsolute(path) ? path : resolve(process.cwd(), path);
  let mod: Partial<OauthBearerProviderModule>;
  try {
    mod = (await import(full)) as Partial<OauthBearerProviderModule>;
  } catch (err) {
    throw settingError('kafkaOauthProviderModule', full, `cannot load: ${(err as Error).message}`, nameOf, err);
  }
  const factory =
    mod.createOauthBearerProvider ??
    (mod as { default?: Partial<OauthBearerProviderModule> }).default?.createOauthBearerProvider;
  if (typeof factory !== 'function') {
    throw settingError('kafkaOauthProviderModule', full, 'exports no createOauthBearerProvider function', nameOf);
  }
  return factory({ log });
}

const failsNaming =
  (key: keyof KafkaConnectionInput, path: string, nameOf: SettingNamer): SettingFileError =>
  (problem, cause) =>
    settingError(key, path, problem, nameOf, cause);

/** Read a file a setting names; a missing or unreadable file fails naming the setting. */
function readSettingFile(key: keyof KafkaConnectionInput, path: string, nameOf: SettingNamer): Buffer {
  return readNamedFile(path, failsNaming(key, path, nameOf));
}

/** A secret from a file, without the one trailing newline editors and `echo` add. */
function secretFromFile(key: keyof KafkaConnectionInput, path: string, nameOf: SettingNamer): string {
  return readSecretFile(path, failsNaming(key, path, nameOf));
}

function parseCertificate(
  key: keyof KafkaConnectionInput,
  path: string,
  pem: Buffer,
  nameOf: SettingNamer,
): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw settingError(key, path, 'not a PEM certificate', nameOf, err);
  }
}

function settingError(
  key: keyof KafkaConnectionInput,
  value: string | undefined,
  problem: string,
  nameOf: SettingNamer,
  cause?: unknown,
): ConfigError {
  const issue = `${nameOf(key)} ${value ?? ''}: ${problem}`;
  return new ConfigError(`Invalid Kafka connection settings:\n  ${issue}`, [issue], { cause });
}
