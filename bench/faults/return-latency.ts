/**
 * What a broker's return costs a producer with `acks=all`, apart from everything else: on a private
 * three-broker cluster, one producer sends N messages/s (keyless, over 6 partitions, replication 3,
 * min.insync.replicas 2) and records each send's latency; one broker is stopped with SIGTERM, started
 * again, and the run goes on until it is back in every ISR and 20 s more. Prints, per second from the
 * SIGTERM, the sends, failures and p50/p99/max latency, and writes them as JSON.
 *
 *   npx tsx bench/faults/return-latency.ts [--rate 100] [--node 1] [--out FILE]
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createKafka } from '../../src/kafka/kafka-client';
import { ClusterStack } from '../../test/support/cluster-stack';
import { LeaderWatch } from '../../test/support/leader-watch';

interface Sample {
  at: number;
  ms: number;
  ok: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '100' },
      node: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  const rate = Number(values.rate);
  const cluster = await ClusterStack.up(mkdtempSync(join(tmpdir(), 'rg-return-')), false);
  const log = pino({ level: 'error' });
  const kafka = createKafka(cluster.stack.kafkaBrokers, 'return-latency', log);
  const topic = `return-latency-${process.pid}`;
  await cluster.createTopics([topic], 6);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const samples: Sample[] = [];
  const marks: Record<string, number> = {};
  let sending = true;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    let n = 0;
    const start = Date.now();
    while (sending) {
      n += 1;
      const t0 = Date.now();
      const p = producer
        .send({ topic, acks: -1, messages: [{ value: String(n) }] })
        .then(
          () => void samples.push({ at: t0, ms: Date.now() - t0, ok: true }),
          () => void samples.push({ at: t0, ms: Date.now() - t0, ok: false }),
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
      const next = start + (n * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  const watch = new LeaderWatch(cluster.nodes, [topic]);
  try {
    await new Promise((r) => setTimeout(r, 15_000));
    const node = Number(values.node);
    marks['sigterm'] = Date.now();
    const stopped = await cluster.stop(node);
    marks['stopped'] = Date.now();
    await new Promise((r) => setTimeout(r, 1_000));
    marks['startAsked'] = Date.now();
    await cluster.start(node);
    marks['started'] = Date.now();
    const isr = await watch.untilFullIsr(120_000);
    marks['isrBack'] = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    sending = false;
    await loop;
    await Promise.allSettled([...inflight]);
    const t0 = marks['sigterm'];
    const perSecond = new Map<number, Sample[]>();
    for (const s of samples) {
      const sec = Math.floor((s.at - t0) / 1000);
      perSecond.set(sec, [...(perSecond.get(sec) ?? []), s]);
    }
    const rows = [...perSecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([sec, ss]) => {
        const ms = ss.map((s) => s.ms).sort((a, b) => a - b);
        const q = (p: number): number => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? 0;
        return {
          sec,
          sends: ss.length,
          failed: ss.filter((s) => !s.ok).length,
          p50: q(0.5),
          p99: q(0.99),
          max: ms.at(-1) ?? 0,
        };
      });
    const rel = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, ((v - t0) / 1000).toFixed(1)]));
    console.log(JSON.stringify({ rate, node, stopped, isr, marksSecondsFromSigterm: rel }));
    for (const r of rows) console.log(`${r.sec}\t${r.sends}\t${r.failed}\t${r.p50}\t${r.p99}\t${r.max}`);
    if (values.out) writeFileSync(values.out, JSON.stringify({ rate, node, marks: rel, rows }, null, 2));
  } finally {
    sending = false;
    await producer.disconnect().catch(() => undefined);
    await cluster.down();
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
