import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { askRedis, freePort, spawnRedisServer, stopProcess } from './redis-server';
import { waitFor } from './wait-for';

const exec = promisify(execFile);

/** One redis-server of a {@link PrivateRedisCluster}. */
export interface ClusterServer {
  port: number;
  child: ChildProcess;
}

/** A Redis Cluster of one test file's own: three masters, three replicas, all local processes. */
export interface PrivateRedisCluster {
  /** `REDIS_CLUSTER_NODES` for it (every node, `127.0.0.1:<port>` comma-separated). */
  nodes: string;
  servers: ClusterServer[];
  /** `host:port` of the masters now (CLUSTER NODES as one live node sees it). */
  masters(): Promise<string[]>;
  /** CLUSTER NODES as the first live node sees it, for a failure message. */
  nodesView(): Promise<string>;
  /** SIGKILL the server on `port` (a master failover: the cluster promotes its replica). */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

async function clusterNodesOf(port: number): Promise<{ address: string; master: boolean; failed: boolean }[]> {
  return askRedis(port, async (r) => {
    const text = (await r.call('CLUSTER', 'NODES')) as string;
    return text
      .trim()
      .split('\n')
      .map((line) => {
        const [, addr = '', flags = ''] = line.split(' ');
        return {
          address: addr.split('@')[0] ?? '',
          master: flags.split(',').includes('master'),
          failed: /fail/.test(flags),
        };
      });
  });
}

/**
 * Start six `redis-server`s in cluster mode (cluster-node-timeout 1 s so a failover is quick,
 * keyspace notifications `K$`, no persistence), join them with `redis-cli --cluster create
 * --cluster-replicas 1` and wait until every node reports `cluster_state:ok`.
 */
export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'replygate-redis-cluster-'));
  const servers: ClusterServer[] = [];
  for (let i = 0; i < 6; i++) {
    const port = await freePort();
    const busPort = await freePort();
    const child = spawnRedisServer(port, {
      dir,
      extra: [
        '--cluster-port',
        String(busPort),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '1000',
        // A replica whose master died fails over however long the election takes: with the
        // default factor (10) it gives up after node-timeout x 10 + 10 s, which an election on a
        // loaded 2-core machine overran (no promotion within 60 s, twice in CI).
        '--cluster-replica-validity-factor',
        '0',
      ],
    });
    servers.push({ port, child });
  }
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map(({ child }) => stopProcess(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const { port } of servers) {
      await waitFor(async () => (await clusterNodesOf(port)).length > 0, 10_000, `redis-server on ${port}`, 50);
    }
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await exec('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes']);
    for (const { port } of servers) {
      await waitFor(
        () => askRedis(port, async (r) => /cluster_state:ok/.test((await r.call('CLUSTER', 'INFO')) as string)),
        20_000,
        `cluster_state:ok on ${port}`,
        100,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes: servers.map((s) => `127.0.0.1:${s.port}`).join(','),
    servers,
    async masters() {
      for (const s of servers) {
        if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
        return (await clusterNodesOf(s.port)).filter((n) => n.master && !n.failed).map((n) => n.address);
      }
      return [];
    },
    async nodesView() {
      for (const s of servers) {
        if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
        return askRedis(s.port, async (r) => String(await r.call('CLUSTER', 'NODES'))).catch((e: unknown) => String(e));
      }
      return '(no live node)';
    },
    async kill(port) {
      const server = servers.find((s) => s.port === port);
      if (server !== undefined) await stopProcess(server.child);
    },
    stop,
  };
}
