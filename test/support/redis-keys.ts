import { Redis } from 'ioredis';

/** Every key under `prefix`, and those of them without a TTL (the key-hygiene check). */
export async function scanKeys(redisUrl: string, prefix: string): Promise<{ keys: string[]; withoutTtl: string[] }> {
  const redis = new Redis(redisUrl);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
    return { keys, withoutTtl: keys.filter((_, i) => (ttls[i] ?? -1) < 0) };
  } finally {
    redis.disconnect();
  }
}
