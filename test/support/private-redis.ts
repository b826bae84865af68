import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, spawnRedisServer, stopProcess } from './redis-server';
import { waitFor } from './wait-for';

/** A redis-server of one test's own, for tests that change server settings other tests rely on. */
export interface PrivateRedis {
  url: string;
  /** A command connection to it, for the test's own CONFIG SET / GET. */
  client: Redis;
  /**
   * Kill the server (SIGKILL) and start it again on the same port: a restart without persistence,
   * so every key is gone and the server has a new run_id. `whileDown` runs between the two.
   * Resolves once it answers PING again.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Start `redis-server` (from PATH, as scripts/stack.sh does) on a free port with keyspace
 * notifications for SET on, no persistence, and wait until it answers PING.
 */
export async function startPrivateRedis(notify = 'K$'): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'replygate-redis-'));
  const spawnServer = () => spawnRedisServer(port, { dir, notify });
  let child = spawnServer();
  const url = `redis://127.0.0.1:${port}/0`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await waitFor(async () => (await client.ping()) === 'PONG', 10_000, `redis-server on port ${port}`, 50);
  const kill = (signal: NodeJS.Signals): Promise<void> => stopProcess(child, signal);
  return {
    url,
    client,
    async restart(whileDown) {
      await kill('SIGKILL');
      await whileDown?.();
      child = spawnServer();
      await waitFor(
        async () => (await client.ping().catch(() => '')) === 'PONG',
        10_000,
        `redis-server back on port ${port}`,
        50,
      );
    },
    async stop() {
      client.disconnect();
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
