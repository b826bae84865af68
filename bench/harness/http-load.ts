import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';
import type { LatencySummary } from '../load/latency-stats';
import { runOpenLoop } from '../load/open-loop';

/**
 * Open-loop HTTP load over `ports` (round-robin), with undici pools of up to 512 keep-alive
 * connections each. Latency is measured from each request's scheduled time (see `runOpenLoop`).
 */
export async function runHttpOpenLoop(
  ports: number[],
  rate: number,
  durationMs: number,
  body: Buffer,
): Promise<LatencySummary> {
  const pools = ports.map((port) => new Pool(`http://127.0.0.1:${port}`, { connections: 512, pipelining: 1 }));
  let turn = 0;
  try {
    return await runOpenLoop(
      async () => {
        const pool = pools[turn++ % pools.length] as Pool;
        try {
          const res = await pool.request({
            path: '/echo',
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          });
          await res.body.dump();
          return res.statusCode >= 200 && res.statusCode < 300;
        } catch {
          return false;
        }
      },
      rate,
      durationMs,
    );
  } finally {
    await Promise.all(pools.map((p) => p.destroy()));
  }
}

/** Loopback source addresses the parked connections come from (127.0.0.2 onwards). */
const SOURCE_ADDRESSES = 16;

/** Requests held open on a replica (see {@link parkRequests}); `release` closes them all. */
export interface Parked {
  release(): void;
}

/** Called between the two stages of {@link parkRequests}. */
export type ParkStage = 'connected' | 'parked';

/**
 * Open `count` connections to the replica, let them sit idle, then send `POST /park` (a route
 * whose service never answers) on every one and wait until `pendingOf()` reports them all parked.
 * `onStage` runs after each stage settled, so the caller can read the replica's memory with only
 * connections open and then with a request parked on each. Connections open in batches so the
 * listen backlog is not overrun.
 */
export async function parkRequests(
  port: number,
  count: number,
  pendingOf: () => Promise<number>,
  onStage: (stage: ParkStage) => Promise<void> = async () => undefined,
  timeoutMs = 60_000,
): Promise<Parked> {
  const sockets: Socket[] = [];
  const release = (): void => {
    for (const s of sockets) s.destroy();
  };
  const body = '{"park":true}';
  const request =
    `POST /park HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  try {
    for (let opened = 0; opened < count;) {
      const batch = Math.min(250, count - opened);
      await Promise.all(
        Array.from(
          { length: batch },
          () =>
            new Promise<void>((resolve, reject) => {
              // Spread over source addresses: one address has ~28k ephemeral ports, and the
              // previous variant's closed sockets still hold theirs (TIME_WAIT).
              const localAddress = `127.0.0.${2 + (sockets.length % SOURCE_ADDRESSES)}`;
              const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve());
              socket.on('error', reject);
              socket.on('data', () => undefined); // a parked request answers nothing until release
              sockets.push(socket);
            }),
        ),
      );
      opened += batch;
    }
    await onStage('connected');
    const deadline = Date.now() + timeoutMs;
    for (let sent = 0; sent < count;) {
      const batch = Math.min(250, count - sent);
      for (const socket of sockets.slice(sent, sent + batch)) socket.write(request);
      sent += batch;
      while ((await pendingOf()) < sent) {
        if (Date.now() > deadline)
          throw new Error(`only ${await pendingOf()} of ${sent} requests parked within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 200)); // a /metrics scrape is not free for the replica
      }
    }
    await onStage('parked');
  } catch (err) {
    release();
    throw err;
  }
  return { release };
}

/** The replygate_pending_requests gauge of a replica. */
export async function pendingGauge(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const m = /^replygate_pending_requests (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
