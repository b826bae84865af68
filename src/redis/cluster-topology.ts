import type { Cluster } from 'ioredis';
import { keySlot } from './key-slot';

/** `host:port` of every master in the cluster client's slot map (sorted). */
export function clusterMasters(cluster: Cluster): string[] {
  return cluster
    .nodes('master')
    .map((n) => `${n.options.host}:${n.options.port}`)
    .sort();
}

/**
 * A string that changes whenever a slot range changes hands (failover, resharding, a master
 * added or removed): the ranges of the slot map with the master serving each.
 */
export function slotMapSignature(cluster: Cluster): string {
  const parts: string[] = [];
  let start = 0;
  let owner: string | undefined;
  cluster.slots.forEach((nodes, slot) => {
    const master = nodes?.[0];
    if (master === owner) return;
    if (owner !== undefined) parts.push(`${start}-${slot - 1}=${owner}`);
    start = slot;
    owner = master;
  });
  if (owner !== undefined) parts.push(`${start}-${cluster.slots.length - 1}=${owner}`);
  return parts.join(' ');
}

/**
 * One id per master of the cluster's slot map: `idOf(n)` for the smallest `n` whose key
 * (`keyOf(id)`) lands in a slot that master serves. With random slots a few tries per master
 * suffice; the search is bounded all the same.
 */
export function oneIdPerMaster(
  cluster: Cluster,
  idOf: (n: number) => string,
  keyOf: (id: string) => string,
): Map<string, string> {
  const owners = new Set<string>();
  for (const nodes of cluster.slots) if (nodes?.[0] !== undefined) owners.add(nodes[0]);
  const found = new Map<string, string>();
  for (let n = 0; found.size < owners.size && n < 100_000; n++) {
    const id = idOf(n);
    const owner = cluster.slots[keySlot(keyOf(id))]?.[0];
    if (owner !== undefined && !found.has(owner)) found.set(owner, id);
  }
  return found;
}

/** Whether the cluster client's connection to the master at `address` is up. */
export function masterReady(cluster: Cluster, address: string): boolean {
  return cluster.nodes('master').some((n) => `${n.options.host}:${n.options.port}` === address && n.status === 'ready');
}
