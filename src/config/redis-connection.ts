import { z } from 'zod';
import { secretGivenTwice } from './setting-files';

const bool = z.union([z.boolean(), z.stringbool()]);
const path = z.string().min(1);

/** A comma-separated `host:port` list (cluster seed nodes, sentinels). */
const hostPortList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'each address must be host:port')).min(1));

/** How the gateway reaches Redis: one server, a Redis Cluster, or a primary watched by Sentinel. */
export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

/** The single Redis used when no Redis setting is given. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379/0';

/**
 * How every Redis client of the project connects: the deployment shape (one URL, cluster seed
 * nodes, or sentinels plus a master name), the ACL user and password, and TLS. Declared once here;
 * the gateway schema spreads it and the bench, the fault harness and the tests read the same
 * settings (`loadRedisConnection`). The shape follows from which setting is given: there is no
 * separate mode switch to contradict it. Passwords come from a file (`…_FILE`) or the environment,
 * never from a flag, which `ps` shows.
 */
export const redisConnectionShape = {
  /**
   * `REDIS_URL`: one Redis server (`redis://[[user]:password@]host:port/db`, `rediss://` for TLS).
   * Not with `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`. @defaultValue `redis://127.0.0.1:6379/0`
   */
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  /**
   * `REDIS_CLUSTER_NODES`: Redis Cluster seed nodes, comma-separated `host:port`; the rest of the
   * cluster is discovered from them. Database 0 only (Redis Cluster has no other).
   */
  redisClusterNodes: hostPortList.optional(),
  /** `REDIS_SENTINELS`: Sentinel addresses, comma-separated `host:port`; needs `REDIS_SENTINEL_MASTER`. */
  redisSentinels: hostPortList.optional(),
  /** `REDIS_SENTINEL_MASTER`: the master name the sentinels monitor (`sentinel monitor <name> …`). */
  redisSentinelMaster: z.string().min(1).optional(),
  /** `REDIS_SENTINEL_USERNAME`: ACL user for the sentinels themselves, if they require one. */
  redisSentinelUsername: z.string().min(1).optional(),
  /** `REDIS_SENTINEL_PASSWORD_FILE`: file holding the sentinels' password (one trailing newline is ignored). */
  redisSentinelPasswordFile: path.optional(),
  /** `REDIS_SENTINEL_PASSWORD`: the sentinels' password itself, environment only (no flag); prefer the file. */
  redisSentinelPassword: z.string().min(1).optional(),
  /** `REDIS_USERNAME`: Redis ACL user (Redis 6+); unset: the `default` user. */
  redisUsername: z.string().min(1).optional(),
  /** `REDIS_PASSWORD_FILE`: file holding the Redis password (one trailing newline is ignored). */
  redisPasswordFile: path.optional(),
  /** `REDIS_PASSWORD`: the Redis password itself, environment only (no flag); prefer the file. */
  redisPassword: z.string().min(1).optional(),
  /** `REDIS_TLS`: connect to Redis (and the sentinels) over TLS; a `rediss://` `REDIS_URL` implies it. @defaultValue false */
  redisTls: bool.default(false),
  /** `REDIS_TLS_CA_FILE`: PEM file of the CAs that sign the Redis servers' certificates. @defaultValue Node's public CAs */
  redisTlsCaFile: path.optional(),
  /** `REDIS_TLS_CERT_FILE`: PEM client certificate for Redis servers that ask for one; needs `REDIS_TLS_KEY_FILE`. */
  redisTlsCertFile: path.optional(),
  /** `REDIS_TLS_KEY_FILE`: PEM private key of `REDIS_TLS_CERT_FILE`. */
  redisTlsKeyFile: path.optional(),
  /** `REDIS_TLS_SERVERNAME`: host name the servers' certificates are checked against (and sent as SNI) instead of the address dialled. */
  redisTlsServername: z.string().min(1).optional(),
};

/** The Redis connection settings as one zod object. */
export const redisConnectionSchema = z.object(redisConnectionShape);

/** Validated Redis connection settings. */
export type RedisConnectionSettings = z.output<typeof redisConnectionSchema>;
/** Redis connection settings as given (strings from env or flags). */
export type RedisConnectionInput = z.input<typeof redisConnectionSchema>;

/** Redis settings that are secrets: read from the environment only, never from a flag. */
export const REDIS_SECRET_SETTINGS = ['redisPassword', 'redisSentinelPassword'] as const;

/** Where each Redis connection setting comes from. */
export const REDIS_CONNECTION_SOURCES: Record<keyof RedisConnectionInput, { env: string; flag?: string }> = {
  redisUrl: { env: 'REDIS_URL', flag: 'redis-url' },
  redisClusterNodes: { env: 'REDIS_CLUSTER_NODES', flag: 'redis-cluster-nodes' },
  redisSentinels: { env: 'REDIS_SENTINELS', flag: 'redis-sentinels' },
  redisSentinelMaster: { env: 'REDIS_SENTINEL_MASTER', flag: 'redis-sentinel-master' },
  redisSentinelUsername: { env: 'REDIS_SENTINEL_USERNAME', flag: 'redis-sentinel-username' },
  redisSentinelPasswordFile: { env: 'REDIS_SENTINEL_PASSWORD_FILE', flag: 'redis-sentinel-password-file' },
  redisSentinelPassword: { env: 'REDIS_SENTINEL_PASSWORD' },
  redisUsername: { env: 'REDIS_USERNAME', flag: 'redis-username' },
  redisPasswordFile: { env: 'REDIS_PASSWORD_FILE', flag: 'redis-password-file' },
  redisPassword: { env: 'REDIS_PASSWORD' },
  redisTls: { env: 'REDIS_TLS', flag: 'redis-tls' },
  redisTlsCaFile: { env: 'REDIS_TLS_CA_FILE', flag: 'redis-tls-ca-file' },
  redisTlsCertFile: { env: 'REDIS_TLS_CERT_FILE', flag: 'redis-tls-cert-file' },
  redisTlsKeyFile: { env: 'REDIS_TLS_KEY_FILE', flag: 'redis-tls-key-file' },
  redisTlsServername: { env: 'REDIS_TLS_SERVERNAME', flag: 'redis-tls-servername' },
};

/** One combination problem, by setting key. */
export interface RedisConnectionIssue {
  key: keyof RedisConnectionInput;
  message: string;
}

/** Which deployment shape the settings describe. */
export function redisMode(s: Pick<RedisConnectionSettings, 'redisClusterNodes' | 'redisSentinels'>): RedisMode {
  if (s.redisClusterNodes !== undefined) return 'cluster';
  if (s.redisSentinels !== undefined) return 'sentinel';
  return 'standalone';
}

/** Whether the connections use TLS: `REDIS_TLS`, or a `rediss://` URL. */
export function redisTlsOn(s: Pick<RedisConnectionSettings, 'redisTls' | 'redisUrl'>): boolean {
  return s.redisTls || s.redisUrl?.startsWith('rediss:') === true;
}

/**
 * Settings that are each valid but do not fit together (two deployment shapes at once, sentinel
 * settings without sentinels, a certificate without its key, a password given twice). Checked
 * wherever the settings are loaded, so the gateway and the tools refuse the same mistakes.
 */
export function redisConnectionIssues(s: RedisConnectionSettings): RedisConnectionIssue[] {
  const issues: RedisConnectionIssue[] = [];
  if (s.redisClusterNodes !== undefined && s.redisSentinels !== undefined) {
    issues.push({
      key: 'redisSentinels',
      message: 'give one deployment shape: REDIS_CLUSTER_NODES or REDIS_SENTINELS',
    });
  }
  const mode = redisMode(s);
  if (mode !== 'standalone' && s.redisUrl !== undefined) {
    issues.push({
      key: 'redisUrl',
      message: `only for a single Redis; unset it with ${mode === 'cluster' ? 'REDIS_CLUSTER_NODES' : 'REDIS_SENTINELS'} (credentials: REDIS_USERNAME, REDIS_PASSWORD_FILE; TLS: REDIS_TLS)`,
    });
  }
  if (mode === 'sentinel' && s.redisSentinelMaster === undefined) {
    issues.push({ key: 'redisSentinelMaster', message: 'required with REDIS_SENTINELS: the master name they monitor' });
  }
  if (s.redisSentinels === undefined) {
    for (const key of [
      'redisSentinelMaster',
      'redisSentinelUsername',
      'redisSentinelPasswordFile',
      'redisSentinelPassword',
    ] as const) {
      if (s[key] !== undefined) issues.push({ key, message: 'only with REDIS_SENTINELS' });
    }
  }
  for (const [file, value] of [
    ['redisPasswordFile', 'redisPassword'],
    ['redisSentinelPasswordFile', 'redisSentinelPassword'],
  ] as const) {
    const twice = secretGivenTwice(s, file, value, REDIS_CONNECTION_SOURCES, 'password');
    if (twice !== undefined) issues.push(twice);
  }
  if (s.redisUrl !== undefined) {
    const url = new URL(s.redisUrl);
    if (url.password !== '' && (s.redisPasswordFile !== undefined || s.redisPassword !== undefined)) {
      issues.push({
        key: 'redisUrl',
        message: 'carries a password and REDIS_PASSWORD_FILE or REDIS_PASSWORD is set too: give it once',
      });
    }
    if (url.username !== '' && s.redisUsername !== undefined) {
      issues.push({ key: 'redisUrl', message: 'carries a user name and REDIS_USERNAME is set too: give it once' });
    }
  }
  if ((s.redisTlsCertFile === undefined) !== (s.redisTlsKeyFile === undefined)) {
    issues.push({
      key: s.redisTlsCertFile === undefined ? 'redisTlsCertFile' : 'redisTlsKeyFile',
      message: 'a client certificate needs both REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE',
    });
  }
  if (!redisTlsOn(s)) {
    for (const key of ['redisTlsCaFile', 'redisTlsCertFile', 'redisTlsKeyFile', 'redisTlsServername'] as const) {
      if (s[key] !== undefined) issues.push({ key, message: 'needs REDIS_TLS=true (or a rediss:// REDIS_URL)' });
    }
  }
  return issues;
}

/** A Redis URL without its credentials, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * Where the settings point, without any credential: the URL (password and user hidden), the
 * cluster seed nodes, or `<master>@<sentinels>`. For logs, `/admin/settings` and start-up errors.
 */
export function redisAddress(
  s: Pick<RedisConnectionSettings, 'redisUrl' | 'redisClusterNodes' | 'redisSentinels' | 'redisSentinelMaster'>,
): string {
  switch (redisMode(s)) {
    case 'cluster':
      return (s.redisClusterNodes ?? []).join(',');
    case 'sentinel':
      return `${s.redisSentinelMaster ?? ''}@${(s.redisSentinels ?? []).join(',')}`;
    default:
      return redactRedisUrl(s.redisUrl ?? DEFAULT_REDIS_URL);
  }
}
