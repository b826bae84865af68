import { performance } from 'node:perf_hooks';
import { type LatencySummary, summarise } from './latency-stats';

/** Sends one request; resolves `true` on success. Must not reject. */
export type SendOnce = () => Promise<boolean>;

/**
 * Open-loop (wrk2-style) load: request i is due at `start + i / rate`, whatever happened to the
 * requests before it, and its latency is measured from that due time, not from when it was
 * actually sent. A stall therefore shows up in the tail instead of pausing the clock
 * (no coordinated omission). Requests still unanswered `drainMs` after the last one was due count
 * as errors.
 */
export async function runOpenLoop(
  send: SendOnce,
  ratePerSecond: number,
  durationMs: number,
  drainMs = 10_000,
): Promise<LatencySummary> {
  const total = Math.max(1, Math.round((ratePerSecond * durationMs) / 1000));
  const intervalMs = 1000 / ratePerSecond;
  const latencies: number[] = [];
  let errors = 0;
  let done = 0;
  let next = 0;
  const start = performance.now() + 5;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (finish = resolve));
  const fire = (due: number): void => {
    send().then((ok) => {
      if (ok) latencies.push(performance.now() - due);
      else errors++;
      if (++done === total) finish();
    });
  };
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const now = performance.now();
      while (next < total && start + next * intervalMs <= now) fire(start + next++ * intervalMs);
      if (next >= total) return resolve();
      // setImmediate when the next send is due within a millisecond: timers have 1 ms granularity.
      const wait = start + next * intervalMs - performance.now();
      if (wait > 1.5) setTimeout(pump, Math.floor(wait - 0.5));
      else setImmediate(pump);
    };
    pump();
  });
  const drained = await Promise.race([
    allDone.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), drainMs).unref()),
  ]);
  if (!drained) errors += total - done;
  return summarise(latencies, total, errors, durationMs);
}
