import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { loadRedisConnection } from '../config/load-redis-connection';
import type { RedisConnectionSettings } from '../config/redis-connection';
import { StartupError, describeNetworkError } from '../errors/startup-errors';
import type { Logger } from '../observability/logger';
import { resolveRedisTarget, type RedisAddress, type RedisTarget } from './redis-target';

export { redactUrl } from './redis-target';

/** A command connection: one Redis (standalone, or the Sentinel-elected primary) or a whole cluster. */
export type RedisClient = Redis | Cluster;

/** Whether `client` is a Redis Cluster client. */
export function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

const retryStrategy = (times: number): number => Math.min(50 * 2 ** times, 2000);

/**
 * How often a cluster client re-reads the slot map on its own (besides after MOVED and errors).
 * It decides how soon a failover or a resharding is seen, hence how soon the wake follows it.
 */
export const CLUSTER_SLOTS_REFRESH_MS = 1000;

/**
 * The one place Redis connections are made: every Redis user of the project (reply store, wake,
 * idempotency, async records, rate limits, webhooks' BullMQ, restart detection, bench, fault
 * harness, tests) gets its connections here, so the three deployment shapes (one server, Redis
 * Cluster, Sentinel), the ACL user and TLS apply to all of them alike.
 *
 * @example
 * const connections = RedisConnections.fromSettings(config);
 * const redis = connections.command(`replygate:${config.instanceId}`);
 */
export class RedisConnections {
  constructor(readonly target: RedisTarget) {}

  /**
   * The factory for a tool (bench, fault harness, tests) from the gateway's own variables
   * (`REDIS_URL` or `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS`…, `REDIS_USERNAME`, `REDIS_TLS_*`), so it
   * reaches the Redis the gateways use in the same shape. `redisUrl`, when not empty, names the
   * single Redis instead (a stack that printed one).
   */
  static fromEnv(env: NodeJS.ProcessEnv, redisUrl?: string): RedisConnections {
    return RedisConnections.fromSettings(loadRedisConnection(redisUrl ? { ...env, REDIS_URL: redisUrl } : env));
  }

  /** Resolve the settings (reading password and TLS files) and build the factory. */
  static fromSettings(settings: RedisConnectionSettings): RedisConnections {
    return new RedisConnections(resolveRedisTarget(settings));
  }

  get mode(): RedisTarget['mode'] {
    return this.target.mode;
  }

  /** Commands: auto-pipelined (per node on a cluster), failing fast while Redis is away. */
  command(name: string): RedisClient {
    return this.open(name, { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
  }

  /**
   * A connection whose commands never give up (BullMQ needs `maxRetriesPerRequest: null` for its
   * blocking commands). On a cluster, BullMQ's keys must share a slot: see `bullPrefix`.
   */
  durable(name: string): RedisClient {
    return this.open(name, { maxRetriesPerRequest: null });
  }

  /**
   * The keyspace subscriber of a single Redis (standalone, or the primary Sentinel elects: it
   * follows a failover by reconnecting to the new primary). On a cluster use {@link nodeSubscriber}.
   */
  subscriber(name: string): Redis {
    if (this.target.mode === 'cluster') throw new Error('a cluster has one subscriber per master: use nodeSubscriber');
    return this.open(name, { autoResubscribe: false, maxRetriesPerRequest: null }) as Redis;
  }

  /** A subscriber on one cluster node (keyspace notifications are published only where the key lives). */
  nodeSubscriber(node: RedisAddress, name: string): Redis {
    return new Redis({
      ...this.target.options,
      host: node.host,
      port: node.port,
      lazyConnect: true,
      connectionName: name,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      retryStrategy,
    });
  }

  /** A plain connection for tools and tests (commands retried a few times). */
  tool(name = 'replygate-tool'): RedisClient {
    return this.open(name, { maxRetriesPerRequest: 3 });
  }

  private open(name: string, extra: RedisOptions): RedisClient {
    const t = this.target;
    const base: RedisOptions = { ...t.options, lazyConnect: true, connectionName: name, retryStrategy, ...extra };
    if (t.mode === 'cluster') {
      const { enableAutoPipelining, ...redisOptions } = base;
      const options: ClusterOptions = {
        lazyConnect: true,
        redisOptions,
        slotsRefreshInterval: CLUSTER_SLOTS_REFRESH_MS,
        clusterRetryStrategy: retryStrategy,
        scaleReads: 'master',
      };
      if (enableAutoPipelining !== undefined) options.enableAutoPipelining = enableAutoPipelining;
      if (base.maxRetriesPerRequest !== undefined) options.maxRedirections = 16;
      return new Cluster([...(t.clusterNodes ?? [])], options);
    }
    if (t.mode === 'sentinel') {
      return new Redis({
        ...base,
        sentinels: [...(t.sentinels ?? [])],
        name: t.sentinelMaster ?? '',
        // No failoverDetector: a failover closes the clients' connections anyway (the sentinels
        // CLIENT KILL them; a dead primary's sockets close), and ioredis' detector disconnects the
        // connector on +switch-master even while it is connecting: seen here as a connection left
        // not ready for good after a primary SIGKILL (redis:false on /readyz for 45 s and more, no
        // reconnect attempt logged; redis-sentinel.test.ts in CI, fault scenario 15).
        sentinelRetryStrategy: retryStrategy,
      });
    }
    return new Redis(t.url ?? '', base);
  }
}

const AUTH_ERRORS = /WRONGPASS|NOAUTH|NOPERM|invalid username-password|AUTH failed/i;
/** ioredis' error when no sentinel answered; its "Last error" is the sentinels' own. */
const SENTINELS_FAILED = /All sentinels are unreachable/;

/**
 * Connect and wait until the connection is ready, or fail after `timeoutMs` with a
 * {@link StartupError} naming the Redis setting (REDIS_URL, REDIS_CLUSTER_NODES or
 * REDIS_SENTINELS; REDIS_USERNAME / REDIS_PASSWORD… when Redis refused the credentials,
 * REDIS_SENTINEL_USERNAME / REDIS_SENTINEL_PASSWORD… when the sentinels did), the
 * address (without password) and the last problem, instead of hanging start-up (a failure other
 * gateways are known for). Redis may be starting too, so failed attempts are retried until then;
 * the first one is logged at once, so the wait is not silent.
 */
export async function connectWithin(
  redis: RedisClient,
  timeoutMs: number,
  target: Pick<RedisTarget, 'address' | 'settings' | 'authSettings' | 'sentinelAuthSettings'>,
  log?: Logger,
  address = target.address,
): Promise<void> {
  let lastError: unknown;
  const settingsFor = (err: unknown) => {
    if (!(err instanceof Error) || !AUTH_ERRORS.test(err.message)) return target.settings;
    // The sentinels refused us (their own password), not the data nodes.
    if (target.sentinelAuthSettings !== undefined && SENTINELS_FAILED.test(err.message))
      return target.sentinelAuthSettings;
    return target.authSettings;
  };
  const names = (err: unknown) =>
    settingsFor(err)
      .map((s) => (s.flag === undefined ? s.env : `${s.env} (--${s.flag})`))
      .join(' / ');
  let timer: NodeJS.Timeout | undefined;
  let refuse: ((err: StartupError) => void) | undefined;
  const failure = (problem: string) =>
    new StartupError(settingsFor(lastError), address, problem, { cause: lastError, retriable: true });
  const onError = (err: unknown): void => {
    if (lastError === undefined) {
      log?.warn(
        { setting: names(err), address, timeoutMs },
        `${names(err)} ${address}: ${describeNetworkError(err)}; retrying for up to ${timeoutMs} ms`,
      );
    }
    lastError = err;
    // Refused credentials do not mend by waiting: fail at once, naming the credential settings.
    if (err instanceof Error && AUTH_ERRORS.test(err.message)) refuse?.(failure(err.message));
  };
  redis.on('error', onError);
  redis.on('node error', onError);
  const timeout = new Promise<never>((_, reject) => {
    refuse = reject;
    timer = setTimeout(() => {
      const problem = lastError === undefined ? 'no answer' : describeNetworkError(lastError);
      reject(failure(`${problem} (not reachable within ${timeoutMs} ms)`));
    }, timeoutMs);
  });
  const ready = new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    redis.once('ready', () => resolve());
  });
  // ioredis keeps retrying after a failed first attempt; the deadline above bounds the wait.
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
    redis.off('node error', onError);
  }
}
