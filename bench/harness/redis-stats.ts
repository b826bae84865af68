import type { RedisClient } from '../../src/redis/redis-connections';
import { masterConnections } from '../../src/redis/redis-masters';

/** Redis counters read from INFO. */
export interface RedisSnapshot {
  /** Commands executed, excluding the INFO calls the benchmark itself makes. */
  calls: number;
  byCommand: Record<string, number>;
  /** used_cpu_user + used_cpu_sys, in ms. */
  cpuMs: number;
}

/** Read `INFO commandstats` and `INFO cpu` (summed over every master of a cluster). */
export async function redisSnapshot(redis: RedisClient): Promise<RedisSnapshot> {
  const byCommand: Record<string, number> = {};
  let calls = 0;
  let cpuMs = 0;
  for (const node of masterConnections(redis).values()) {
    const text = `${await node.info('commandstats')}\n${await node.info('cpu')}`;
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
      const name = m[1] as string;
      const n = Number(m[2]);
      if (name === 'info') continue;
      byCommand[name] = (byCommand[name] ?? 0) + n;
      calls += n;
    }
    const user = Number(/^used_cpu_user:([\d.]+)/m.exec(text)?.[1] ?? 0);
    const sys = Number(/^used_cpu_sys:([\d.]+)/m.exec(text)?.[1] ?? 0);
    cpuMs += (user + sys) * 1000;
  }
  return { calls, byCommand, cpuMs };
}

/** Commands per command name between two snapshots. */
export function commandDelta(before: RedisSnapshot, after: RedisSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(after.byCommand)) {
    const d = n - (before.byCommand[name] ?? 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

/** Per master: patterns subscribed (`PUBSUB NUMPAT`) and connections in pub/sub mode. */
export interface SubscriberLayout {
  master: string;
  patterns: number;
  subscribers: number;
}

/**
 * The keyspace wake's footprint on each master (issue 14's cost model: R patterns and R
 * subscriber connections per master, R the http replicas). Read with only one variant running.
 */
export async function redisSubscriberLayout(redis: RedisClient): Promise<SubscriberLayout[]> {
  const out: SubscriberLayout[] = [];
  for (const [address, node] of masterConnections(redis)) {
    const patterns = Number(await node.call('PUBSUB', 'NUMPAT'));
    const list = String(await node.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const subscribers = list.split('\n').filter((line) => line.trim() !== '').length;
    out.push({ master: address === '' ? 'standalone' : address, patterns, subscribers });
  }
  return out;
}
