import { scanWithTtls } from './redis-keys';

/**
 * BullMQ's own bookkeeping for the webhook queue (`<prefix>-bull:webhooks:*`: ids, meta, event
 * stream, failed set). The library keeps these for the queue's life and trims jobs by its
 * `removeOnComplete`/`removeOnFail` policy, not by TTL; they are outside the gateway's prefix.
 */
const BULLMQ_KEY = /^\{?[^:]*-bull\}?:/;

/** Keys of the whole test Redis without a TTL, BullMQ's queue bookkeeping aside. */
export async function keysWithoutTtl(redisUrl: string): Promise<{ scanned: number; withoutTtl: string[] }> {
  const { keys, ttls } = await scanWithTtls(redisUrl, '*');
  const own = keys.map((k, i) => ({ k, ttl: ttls[i] })).filter(({ k }) => !BULLMQ_KEY.test(k));
  // -2: expired between SCAN and PTTL, which is fine; -1: no TTL.
  return { scanned: own.length, withoutTtl: own.filter(({ ttl }) => ttl === -1).map(({ k }) => k) };
}
