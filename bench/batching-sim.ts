/**
 * `npx tsx bench/batching-sim.ts [rate] [count]`: what adaptive producer batching adds to a
 * request's produce time, against batching off, as the broker's acknowledgement time grows.
 * Runs the gateway's own ProduceBatcher with a fake send that acknowledges after `ack` ms, at
 * `rate` messages/s (default 300), and prints the p50 / p99 of the time from `add` to the
 * acknowledgement minus the ack time (the wait the batcher added), per max-in-flight setting.
 * No Kafka: it isolates the batcher's queueing from everything else (docs/PERFORMANCE.md, "the
 * adaptive batching p50 at 300/s").
 */
import { ProduceBatcher } from '../src/kafka/produce-batcher';

const rate = Number(process.argv[2] ?? 300);
const count = Number(process.argv[3] ?? 600);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(ackMs: number, maxInFlight: number): Promise<{ p50: number; p99: number; sends: number }> {
  let sends = 0;
  const batcher = new ProduceBatcher(
    async () => {
      sends++;
      await sleep(ackMs);
    },
    { lingerMs: 0, maxInFlight, maxBatch: maxInFlight === Infinity ? 1 : 500 },
  );
  const waits: number[] = [];
  const start = performance.now();
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / rate;
    const ahead = due - performance.now();
    if (ahead > 1) await sleep(ahead);
    const t0 = performance.now();
    all.push(
      batcher.add('t', { value: null }).then(() => {
        waits.push(performance.now() - t0 - ackMs);
      }),
    );
  }
  await Promise.all(all);
  waits.sort((a, b) => a - b);
  const q = (p: number): number => waits[Math.min(waits.length - 1, Math.floor(p * waits.length))] as number;
  return { p50: q(0.5), p99: q(0.99), sends };
}

async function main(): Promise<void> {
  process.stdout.write(`rate ${rate}/s, ${count} messages per point; wait added beyond the ack time (ms)\n`);
  process.stdout.write('ack ms | off (∞ in flight) p50 / p99 | adaptive, 2 in flight p50 / p99 (sends)\n');
  for (const ackMs of [1, 3, 6, 10, 15]) {
    const off = await run(ackMs, Infinity);
    const on = await run(ackMs, 2);
    process.stdout.write(
      `${String(ackMs).padStart(6)} | ${off.p50.toFixed(2)} / ${off.p99.toFixed(2)} | ${on.p50.toFixed(2)} / ${on.p99.toFixed(2)} (${on.sends} sends for ${count})\n`,
    );
  }
}

void main();
