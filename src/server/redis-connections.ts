import { Redis } from 'ioredis';
import { UnavailableError } from '../errors';

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
 * Connect and wait until the connection is ready, or fail after `timeoutMs` with an error that
 * names REDIS_URL, instead of hanging start-up (a failure other gateways are known for).
 */
export async function connectWithin(redis: Redis, timeoutMs: number, url: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UnavailableError(`Redis at REDIS_URL=${redactUrl(url)} not reachable within ${timeoutMs} ms`)),
      timeoutMs,
    );
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
  }
}

/** A Redis URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
