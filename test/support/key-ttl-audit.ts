import type { TestStack } from './test-stack';
import { scanAll, testRedis } from './test-redis';

/**
 * BullMQ's own bookkeeping for the webhook queue (`<prefix>-bull:webhooks:*`, `{<prefix>-bull}:webhooks:*` on a cluster: ids, meta, event
 * stream, failed set). The library keeps these for the queue's life and trims jobs by its
 * `removeOnComplete`/`removeOnFail` policy, not by TTL; they are outside the gateway's prefix.
 */
const BULLMQ_KEY = /^(?:[^:{]*-bull|\{[^:}]*-bull\}):/;

/** Keys of the whole test Redis (every master of a cluster) without a TTL, BullMQ's queue bookkeeping aside. */
export async function keysWithoutTtl(
  stack: Pick<TestStack, 'redisEnv'>,
): Promise<{ scanned: number; withoutTtl: string[] }> {
  const redis = await testRedis(stack, 'replygate-test-ttl-audit');
  try {
    const keys = (await scanAll(redis)).filter((k) => !BULLMQ_KEY.test(k));
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    // -2: expired between SCAN and PTTL, which is fine; -1: no TTL.
    return { scanned: keys.length, withoutTtl: keys.filter((_, i) => ttls[i] === -1) };
  } finally {
    redis.disconnect();
  }
}
