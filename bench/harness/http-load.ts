import { request as httpRequest, type ClientRequest } from 'node:http';
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

/** Requests held open on a replica (see {@link parkRequests}); `release` closes them all. */
export interface Parked {
  release(): void;
}

/**
 * Open `count` requests to `POST /park` (a route whose service never answers), each on its own
 * connection, in batches so the listen backlog is not overrun; resolves once `pendingOf()` reports
 * them all parked.
 */
export async function parkRequests(
  port: number,
  count: number,
  pendingOf: () => Promise<number>,
  timeoutMs = 60_000,
): Promise<Parked> {
  const requests: ClientRequest[] = [];
  const body = '{"park":true}';
  const deadline = Date.now() + timeoutMs;
  for (let sent = 0; sent < count;) {
    const batch = Math.min(250, count - sent);
    for (let i = 0; i < batch; i++) {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: '/park',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      });
      req.on('error', () => undefined);
      req.end(body);
      requests.push(req);
    }
    sent += batch;
    while ((await pendingOf()) < sent) {
      if (Date.now() > deadline) {
        const got = await pendingOf();
        for (const r of requests) r.destroy();
        throw new Error(`only ${got} of ${sent} requests parked within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  return {
    release: () => {
      for (const r of requests) r.destroy();
    },
  };
}

/** The replygate_pending_requests gauge of a replica. */
export async function pendingGauge(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const m = /^replygate_pending_requests (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}
