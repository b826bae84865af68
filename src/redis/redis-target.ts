import type { ConnectionOptions } from 'node:tls';
import type { RedisOptions } from 'ioredis';
import { redisSettingName } from '../config/load-redis-connection';
import { readNamedFile, readSecretFile, type SettingFileError } from '../config/setting-files';
import {
  DEFAULT_REDIS_URL,
  REDIS_CONNECTION_SOURCES,
  redactRedisUrl,
  redisAddress,
  redisMode,
  redisTlsOn,
  type RedisConnectionInput,
  type RedisConnectionSettings,
  type RedisMode,
} from '../config/redis-connection';
import { ConfigError, type StartupSetting } from '../errors/startup-errors';

/** A `host:port` address. */
export interface RedisAddress {
  host: string;
  port: number;
}

/**
 * Where and how every Redis connection of a process connects, resolved once from the settings:
 * files read (password, CA, client certificate), the deployment shape chosen. Holds secrets:
 * never log it; {@link RedisTarget.address} is the printable part.
 */
export interface RedisTarget {
  readonly mode: RedisMode;
  /** The addresses, without any credential: for logs, `/admin` and start-up errors. */
  readonly address: string;
  /** The settings a start-up failure names (the ones that gave the address). */
  readonly settings: readonly StartupSetting[];
  /** The settings an authentication failure names. */
  readonly authSettings: readonly StartupSetting[];
  /** Sentinel: the settings named when the sentinels themselves refuse (NOAUTH, WRONGPASS). */
  readonly sentinelAuthSettings?: readonly StartupSetting[];
  /** Standalone: the URL (with the password in it if it carried one). */
  readonly url?: string;
  /** Cluster: the seed nodes. */
  readonly clusterNodes?: readonly RedisAddress[];
  /** Sentinel: the sentinels and the master name. */
  readonly sentinels?: readonly RedisAddress[];
  readonly sentinelMaster?: string;
  /** Options every data connection gets: ACL user, password, TLS (and the sentinel ones). */
  readonly options: RedisOptions;
}

function parseAddress(hostPort: string): RedisAddress {
  const colon = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, colon), port: Number(hostPort.slice(colon + 1)) };
}

/** A Redis URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return redactRedisUrl(url);
}

function fileError(key: keyof RedisConnectionInput, path: string, problem: string, cause?: unknown): ConfigError {
  const issue = `${redisSettingName(key)} ${path}: ${problem}`;
  return new ConfigError(`Invalid Redis connection settings:\n  ${issue}`, [issue], { cause });
}

const failsNaming =
  (key: keyof RedisConnectionInput, path: string): SettingFileError =>
  (problem, cause) =>
    fileError(key, path, problem, cause);

/** Read a file a setting names; a missing or unreadable file fails naming the setting. */
function readSettingFile(key: keyof RedisConnectionInput, path: string): Buffer {
  return readNamedFile(path, failsNaming(key, path));
}

/** A secret from a file, without the one trailing newline editors and `echo` add. */
function secretFromFile(key: keyof RedisConnectionInput, path: string): string {
  return readSecretFile(path, failsNaming(key, path));
}

function tlsOptions(s: RedisConnectionSettings): ConnectionOptions | undefined {
  if (!redisTlsOn(s)) return undefined;
  const tls: ConnectionOptions = {};
  if (s.redisTlsCaFile !== undefined) tls.ca = readSettingFile('redisTlsCaFile', s.redisTlsCaFile);
  if (s.redisTlsCertFile !== undefined) tls.cert = readSettingFile('redisTlsCertFile', s.redisTlsCertFile);
  if (s.redisTlsKeyFile !== undefined) tls.key = readSettingFile('redisTlsKeyFile', s.redisTlsKeyFile);
  if (s.redisTlsServername !== undefined) tls.servername = s.redisTlsServername;
  return tls;
}

/**
 * Resolve the settings into a {@link RedisTarget}: read the password and TLS files (a bad file
 * fails here, naming its setting) and pick the shape. Default: one Redis at
 * `redis://127.0.0.1:6379/0`, as before the other shapes existed.
 */
export function resolveRedisTarget(s: RedisConnectionSettings): RedisTarget {
  const mode = redisMode(s);
  const password =
    s.redisPasswordFile === undefined ? s.redisPassword : secretFromFile('redisPasswordFile', s.redisPasswordFile);
  const tls = tlsOptions(s);
  const options: RedisOptions = {};
  if (s.redisUsername !== undefined) options.username = s.redisUsername;
  if (password !== undefined) options.password = password;
  if (tls !== undefined) options.tls = tls;
  const src = REDIS_CONNECTION_SOURCES;
  const authSettings = [
    src.redisUsername,
    s.redisPasswordFile === undefined ? src.redisPassword : src.redisPasswordFile,
  ];
  if (mode === 'cluster') {
    const nodes = s.redisClusterNodes ?? [];
    return {
      mode,
      address: redisAddress(s),
      settings: [src.redisClusterNodes],
      authSettings,
      clusterNodes: nodes.map(parseAddress),
      options,
    };
  }
  if (mode === 'sentinel') {
    const sentinels = s.redisSentinels ?? [];
    const sentinelPassword =
      s.redisSentinelPasswordFile === undefined
        ? s.redisSentinelPassword
        : secretFromFile('redisSentinelPasswordFile', s.redisSentinelPasswordFile);
    if (s.redisSentinelUsername !== undefined) options.sentinelUsername = s.redisSentinelUsername;
    if (sentinelPassword !== undefined) options.sentinelPassword = sentinelPassword;
    if (tls !== undefined) {
      options.enableTLSForSentinelMode = true;
      options.sentinelTLS = tls;
    }
    const master = s.redisSentinelMaster ?? '';
    return {
      mode,
      address: redisAddress(s),
      settings: [src.redisSentinels, src.redisSentinelMaster],
      authSettings,
      sentinelAuthSettings: [
        src.redisSentinelUsername,
        s.redisSentinelPassword === undefined ? src.redisSentinelPasswordFile : src.redisSentinelPassword,
      ],
      sentinels: sentinels.map(parseAddress),
      sentinelMaster: master,
      options,
    };
  }
  const url = s.redisUrl ?? DEFAULT_REDIS_URL;
  return { mode, address: redisAddress(s), settings: [src.redisUrl], authSettings, url, options };
}
