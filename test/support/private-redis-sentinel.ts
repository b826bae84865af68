import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { askRedis, freePort, spawnRedisServer, stopProcess } from './redis-server';
import { waitFor } from './wait-for';

/** A primary with two replicas under three sentinels, of one test file's own. */
export interface PrivateRedisSentinel {
  /** `REDIS_SENTINELS` for it. */
  sentinels: string;
  /** `REDIS_SENTINEL_MASTER` for it. */
  master: string;
  /** `host:port` of the primary as the sentinels name it now. */
  primary(): Promise<string>;
  /** SIGKILL the server on `port`. */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

const MASTER = 'replygate-test';

/**
 * Start a primary and two replicas (keyspace notifications `K$` on all three, so a promoted
 * replica publishes them too; no persistence) and three sentinels (quorum 2, down-after 1 s), and
 * wait until every sentinel knows both replicas and the other sentinels.
 */
export async function startPrivateRedisSentinel(): Promise<PrivateRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'replygate-redis-sentinel-'));
  const children = new Map<number, ChildProcess>();
  const stop = async (): Promise<void> => {
    await Promise.all([...children.values()].map((child) => stopProcess(child)));
    rmSync(dir, { recursive: true, force: true });
  };
  const dataPorts = [await freePort(), await freePort(), await freePort()];
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const primaryPort = dataPorts[0]!;
  try {
    dataPorts.forEach((port, i) => {
      const extra = ['--dbfilename', `dump-${port}.rdb`];
      if (i > 0) extra.push('--replicaof', '127.0.0.1', String(primaryPort));
      children.set(port, spawnRedisServer(port, { dir, extra }));
    });
    for (const port of dataPorts) {
      await waitFor(
        () => askRedis(port, async (r) => (await r.ping()) === 'PONG'),
        10_000,
        `redis-server on ${port}`,
        50,
      );
    }
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 5000`,
          '',
        ].join('\n'),
      );
      children.set(port, spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    }
    for (const port of sentinelPorts) {
      await waitFor(
        () =>
          askRedis(port, async (r) => {
            const replicas = (await r.call('SENTINEL', 'REPLICAS', MASTER)) as unknown[];
            const others = (await r.call('SENTINEL', 'SENTINELS', MASTER)) as unknown[];
            return replicas.length === 2 && others.length === 2;
          }),
        30_000,
        `sentinel ${port} knows the replicas and the other sentinels`,
        100,
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const live = (port: number) => {
    const c = children.get(port);
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  };
  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    master: MASTER,
    async primary() {
      const port = sentinelPorts.find(live)!;
      const [host, p] = (await askRedis(port, (r) =>
        r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER),
      )) as string[];
      return `${host}:${p}`;
    },
    async kill(port) {
      const child = children.get(port);
      if (child !== undefined) await stopProcess(child);
    },
    stop,
  };
}
