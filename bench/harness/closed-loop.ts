import autocannon from 'autocannon';

/** Result of one closed-loop run over one or more gateway replicas. */
export interface ClosedLoopResult {
  concurrency: number;
  /** 2xx answers per second, summed over targets. */
  rps: number;
  ok: number;
  errors: number;
  elapsedMs: number;
}

/**
 * Closed-loop load with autocannon: `concurrency` keep-alive connections, each sending its next
 * request when the previous one is answered, spread round-robin over `ports` (what a load
 * balancer would do).
 */
export async function runClosedLoop(
  ports: number[],
  concurrency: number,
  durationMs: number,
  body: Buffer,
): Promise<ClosedLoopResult> {
  const share = ports.map((_, i) => Math.floor(concurrency / ports.length) + (i < concurrency % ports.length ? 1 : 0));
  const started = Date.now();
  const results = await Promise.all(
    ports
      .map((port, i) => ({ port, connections: share[i] ?? 0 }))
      .filter((t) => t.connections > 0)
      .map((t) =>
        autocannon({
          url: `http://127.0.0.1:${t.port}/echo`,
          connections: t.connections,
          duration: durationMs / 1000,
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
          timeout: 30,
        }),
      ),
  );
  const elapsedMs = Date.now() - started;
  let ok = 0;
  let errors = 0;
  for (const r of results) {
    ok += r['2xx'];
    errors += r.non2xx + r.errors + r.timeouts;
  }
  return { concurrency, rps: (ok / durationMs) * 1000, ok, errors, elapsedMs };
}
