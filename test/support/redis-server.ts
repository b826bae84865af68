import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/*
 * The redis-server processes the tests (and the benches) start for themselves: `redis-server` from
 * PATH, as scripts/stack.sh uses it, bound to 127.0.0.1 with no persistence.
 */

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start `redis-server` on `port` (0: no plain port) of 127.0.0.1, without persistence, with
 * keyspace notifications `notify` (default `K$`: SET), its files in `dir` (if given), and `extra`
 * arguments after these (TLS, ACL users, cluster mode, a replica's primary, ...).
 */
export function spawnRedisServer(
  port: number,
  opts: { dir?: string; notify?: string; extra?: string[] } = {},
): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  if (opts.dir !== undefined) args.push('--dir', opts.dir);
  args.push('--notify-keyspace-events', opts.notify ?? 'K$', ...(opts.extra ?? []));
  return spawn('redis-server', args, { stdio: 'ignore' });
}

/** Send `signal` (default SIGKILL) to `child` unless it has exited already, and wait until it has. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/**
 * Ask the Redis on 127.0.0.1:`port` one thing through a connection of its own that does not
 * reconnect or retry (a refused connection fails the question), closed afterwards.
 */
export async function askRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}
