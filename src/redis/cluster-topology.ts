import type { Cluster } from 'ioredis';

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
