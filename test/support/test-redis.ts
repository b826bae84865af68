import type { Redis } from 'ioredis';
import { loadRedisConnection } from '../../src/config/load-redis-connection';
import { REDIS_CONNECTION_SOURCES } from '../../src/config/redis-connection';
import { RedisConnections, isCluster, type RedisClient } from '../../src/redis/redis-connections';
import type { TestStack } from './test-stack';

/** The environment variable of every Redis connection setting (REDIS_URL, REDIS_CLUSTER_NODES, …). */
export const REDIS_SETTING_ENVS: readonly string[] = Object.values(REDIS_CONNECTION_SOURCES).map((s) => s.env);

/** The Redis connection settings among `vars` (a parsed `scripts/stack.sh` output, or `process.env`). */
export function redisSettingsOf(vars: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REDIS_SETTING_ENVS) {
    const v = vars[name];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/**
 * The Redis settings of a gateway child on the test stack: every Redis setting blanked (a shell
 * that eval'ed another stack's lines may have set some; children inherit them), then the stack's.
 */
export function redisChildEnv(stack: Pick<TestStack, 'redisEnv'>): Record<string, string> {
  return { ...Object.fromEntries(REDIS_SETTING_ENVS.map((n) => [n, ''])), ...stack.redisEnv };
}

/**
 * A Redis client of the test stack's shape, from the same factory as the gateway (a Cluster client
 * on a cluster, the Sentinel-elected primary on a sentinel set), connected.
 */
export async function testRedis(stack: Pick<TestStack, 'redisEnv'>, name = 'replygate-test'): Promise<RedisClient> {
  const client = RedisConnections.fromSettings(loadRedisConnection(stack.redisEnv)).tool(name);
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The node clients holding data: every master of a cluster, else the client itself. */
export function dataNodes(client: RedisClient): Redis[] {
  return isCluster(client) ? client.nodes('master') : [client];
}

/** SCAN every data node for `match` (a glob); keys in no particular order. */
export async function scanAll(client: RedisClient, match = '*'): Promise<string[]> {
  const keys: string[] = [];
  for (const node of dataNodes(client)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}

/** How many of `keys` exist, one EXISTS per key (multi-key commands fail across a cluster's slots). */
export async function countExisting(client: RedisClient, keys: readonly string[]): Promise<number> {
  const seen = await Promise.all(keys.map((k) => client.exists(k)));
  return seen.reduce((a, b) => a + b, 0);
}

/** DEL each of `keys` (one command per key, so that they may live on different cluster nodes). */
export async function deleteEach(client: RedisClient, keys: readonly string[]): Promise<void> {
  await Promise.all(keys.map((k) => client.del(k)));
}

/** The Redis connection factory of the test stack, as a gateway on it would build it. */
export function testConnections(stack: Pick<TestStack, 'redisEnv'>): RedisConnections {
  return RedisConnections.fromSettings(loadRedisConnection(stack.redisEnv));
}

/**
 * PSUBSCRIBE `pattern` on every data node (keyspace notifications are published only by the node
 * that holds the key: on a cluster, every master), calling `onMessage(channel, message)`; resolves
 * once every subscription is acknowledged, with a function that closes them.
 */
export async function psubscribeEveryNode(
  client: RedisClient,
  pattern: string,
  onMessage: (channel: string, message: string) => void,
): Promise<() => void> {
  const subscribers = dataNodes(client).map((node) => node.duplicate());
  for (const s of subscribers) {
    s.on('error', () => undefined);
    s.on('pmessage', (_p: string, channel: string, message: string) => onMessage(channel, message));
  }
  await Promise.all(subscribers.map((s) => s.psubscribe(pattern)));
  return () => subscribers.forEach((s) => s.disconnect());
}
