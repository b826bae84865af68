import type { Redis } from 'ioredis';

/** The server's run id (changes on every Redis restart), or undefined when INFO is not allowed. */
export async function redisRunId(redis: Redis): Promise<string | undefined> {
  try {
    const info = await redis.info('server');
    return /run_id:(\w+)/.exec(info)?.[1];
  } catch {
    return undefined;
  }
}
