import { Redis } from 'ioredis';
import { CONFIG_SOURCES } from '../config/config-sources';
import { StartupError, describeNetworkError } from '../errors/startup-errors';
import type { Logger } from '../observability/logger';

/** Open an ioredis connection for commands: auto-pipelined, failing fast while Redis is away. */
export function createCommandConnection(url: string, name: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
}

/** Open an ioredis connection for the keyspace subscription; re-subscribing is ours to do. */
export function createSubscriberConnection(url: string, name: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    autoResubscribe: false,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  });
}

/**
 * Connect and wait until the connection is ready, or fail after `timeoutMs` with a
 * {@link StartupError} naming REDIS_URL (--redis-url), the address (without password) and the
 * last problem, instead of hanging start-up (a failure other gateways are known for). Redis may
 * be starting too, so failed attempts are retried until then; the first one is logged at once,
 * so the wait is not silent.
 */
export async function connectWithin(redis: Redis, timeoutMs: number, url: string, log?: Logger): Promise<void> {
  const address = redactUrl(url);
  let lastError: unknown;
  const onError = (err: unknown): void => {
    if (lastError === undefined) {
      log?.warn(
        { setting: `${CONFIG_SOURCES.redisUrl.env} (--${CONFIG_SOURCES.redisUrl.flag})`, address, timeoutMs },
        `${CONFIG_SOURCES.redisUrl.env} (--${CONFIG_SOURCES.redisUrl.flag}) ${address}: ${describeNetworkError(err)}; retrying for up to ${timeoutMs} ms`,
      );
    }
    lastError = err;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const problem = lastError === undefined ? 'no answer' : describeNetworkError(lastError);
      reject(
        new StartupError([CONFIG_SOURCES.redisUrl], address, `${problem} (not reachable within ${timeoutMs} ms)`, {
          cause: lastError,
          retriable: true,
        }),
      );
    }, timeoutMs);
  });
  const ready = new Promise<void>((resolve) => {
    if (redis.status === 'ready') return resolve();
    redis.once('ready', () => resolve());
  });
  // ioredis keeps retrying after a failed first attempt; the deadline above bounds the wait.
  redis.connect().catch(() => undefined);
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/** A Redis URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
