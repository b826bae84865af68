import { RedisConnections } from '../../src/redis/redis-connections';
import { masterConnections } from '../../src/redis/redis-masters';

/**
 * Every key matching `pattern` (SCAN on every master of a cluster) and their PTTLs, through the
 * project's one connection factory: the test stack's Redis in whatever shape the environment
 * names (`redisUrl` when the stack printed one).
 */
export async function scanWithTtls(redisUrl: string, pattern: string): Promise<{ keys: string[]; ttls: number[] }> {
  const redis = RedisConnections.fromEnv(process.env, redisUrl).tool('replygate-test-scan');
  try {
    await redis.connect();
    const keys: string[] = [];
    for (const node of masterConnections(redis).values()) {
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
    }
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    return { keys, ttls };
  } finally {
    redis.disconnect();
  }
}

/** Every key under `prefix`, and those of them without a TTL (the key-hygiene check). */
export async function scanKeys(redisUrl: string, prefix: string): Promise<{ keys: string[]; withoutTtl: string[] }> {
  const { keys, ttls } = await scanWithTtls(redisUrl, `${prefix}*`);
  return { keys, withoutTtl: keys.filter((_, i) => (ttls[i] ?? -1) < 0) };
}
