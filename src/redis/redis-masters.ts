import type { Redis } from 'ioredis';
import { clusterMasters } from './cluster-topology';
import { isCluster, type RedisClient } from './redis-connections';

/**
 * The connections to run a per-server command on (CONFIG, INFO): each master of a cluster, keyed
 * `host:port`, or the one server (keyed `''`) otherwise. On a cluster a keyless command goes to a
 * random node, so a check of one would prove nothing about the others.
 */
export function masterConnections(client: RedisClient): Map<string, Redis> {
  if (!isCluster(client)) return new Map([['', client]]);
  const byAddress = new Map(client.nodes('master').map((n) => [`${n.options.host}:${n.options.port}`, n]));
  return new Map(clusterMasters(client).map((address) => [address, byAddress.get(address) as Redis]));
}

/** The master at `address` (`host:port`) of a cluster client, if the slot map lists it. */
export function masterAt(client: RedisClient, address: string): Redis | undefined {
  return masterConnections(client).get(address);
}

/** Run `check` on every master (one server: once), naming the master in the error it throws. */
export async function onEveryMaster(
  client: RedisClient,
  check: (node: Redis, address: string) => Promise<void>,
): Promise<void> {
  for (const [address, node] of masterConnections(client)) {
    try {
      await check(node, address);
    } catch (err) {
      if (address !== '' && err instanceof Error) err.message = `Redis Cluster master ${address}: ${err.message}`;
      throw err;
    }
  }
}
