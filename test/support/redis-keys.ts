import type { TestStack } from './test-stack';
import { scanAll, testRedis } from './test-redis';

/** Every key under `prefix` (on every master of a cluster), and those of them without a TTL (the key-hygiene check). */
export async function scanKeys(stack: TestStack, prefix: string): Promise<{ keys: string[]; withoutTtl: string[] }> {
  const redis = await testRedis(stack, 'replygate-test-scan');
  try {
    const keys = await scanAll(redis, `${prefix}*`);
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    return { keys, withoutTtl: keys.filter((_, i) => (ttls[i] ?? -1) < 0) };
  } finally {
    redis.disconnect();
  }
}
