import { Redis } from 'ioredis';

/**
 * BullMQ's own bookkeeping for the webhook queue (`<prefix>-bull:webhooks:*`: ids, meta, event
 * stream, failed set). The library keeps these for the queue's life and trims jobs by its
 * `removeOnComplete`/`removeOnFail` policy, not by TTL; they are outside the gateway's prefix.
 */
const BULLMQ_KEY = /^[^:]*-bull:/;

/** Keys of the whole test Redis without a TTL, BullMQ's queue bookkeeping aside. */
export async function keysWithoutTtl(redisUrl: string): Promise<{ scanned: number; withoutTtl: string[] }> {
  const redis = new Redis(redisUrl);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch.filter((k) => !BULLMQ_KEY.test(k)));
    } while (cursor !== '0');
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    // -2: expired between SCAN and PTTL, which is fine; -1: no TTL.
    return { scanned: keys.length, withoutTtl: keys.filter((_, i) => ttls[i] === -1) };
  } finally {
    redis.disconnect();
  }
}
