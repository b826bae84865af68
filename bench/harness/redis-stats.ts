import type { Redis } from 'ioredis';
import type { RedisClient } from '../../src/redis/redis-connections';
import { dataNodes } from '../../test/support/test-redis';

/** Redis counters read from INFO. */
export interface RedisSnapshot {
  /** Commands executed, excluding the INFO calls the benchmark itself makes. */
  calls: number;
  byCommand: Record<string, number>;
  /** used_cpu_user + used_cpu_sys, in ms. */
  cpuMs: number;
}

/** Read `INFO commandstats` and `INFO cpu`. */
export async function redisSnapshot(redis: Redis): Promise<RedisSnapshot> {
  const text = `${await redis.info('commandstats')}\n${await redis.info('cpu')}`;
  const byCommand: Record<string, number> = {};
  let calls = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = m[1] as string;
    const n = Number(m[2]);
    if (name === 'info') continue;
    byCommand[name] = n;
    calls += n;
  }
  const user = Number(/^used_cpu_user:([\d.]+)/m.exec(text)?.[1] ?? 0);
  const sys = Number(/^used_cpu_sys:([\d.]+)/m.exec(text)?.[1] ?? 0);
  return { calls, byCommand, cpuMs: (user + sys) * 1000 };
}

/**
 * One snapshot of every master of a cluster, summed (a single Redis: its own). Replicas are left
 * out: they replay the masters' writes, a cost of the cluster's redundancy, not of the requests.
 */
export async function redisSnapshotAll(client: RedisClient): Promise<RedisSnapshot> {
  const snaps = await Promise.all(dataNodes(client).map((n) => redisSnapshot(n)));
  const byCommand: Record<string, number> = {};
  for (const s of snaps) for (const [k, v] of Object.entries(s.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v;
  return {
    calls: snaps.reduce((a, s) => a + s.calls, 0),
    byCommand,
    cpuMs: snaps.reduce((a, s) => a + s.cpuMs, 0),
  };
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
