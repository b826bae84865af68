import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseRoutes } from '../../src/config/routes-file';
import { createKafka } from '../../src/kafka/kafka-client';
import { EventMetrics } from '../../src/observability/event-metrics';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { silentLogger } from '../../src/observability/logger';
import { RedisEventInterestStore } from '../../src/redis/redis-event-interest-store';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import { eventRules } from '../../src/relay/event-relay-host';
import { EventRelay } from '../../src/relay/event-relay';
import { buildEventInterest } from '../../src/routing/event-interest';
import { stopTestStack, useTestStack } from '../../test/support/test-stack';
import { unique } from '../../test/support/unique';
import { commandDelta, redisSnapshot } from '../harness/redis-stats';

/**
 * `npm run bench:events [-- --quick] [-- --events N]`: what the event relay costs per event on a
 * busy event topic, at 1 %, 10 % and 100 % of entities awaited, for a command route (interest only)
 * and a blocking-read route (latest state kept for every event). In process: waiters are registered
 * through the replica's own store, N events (one per entity) are produced, then an `EventRelay`
 * reads them all; measured over the read only: Redis commands (INFO commandstats), relay CPU
 * (process.cpuUsage: the kafkajs consumer and the relay) and wall time. See docs/PERFORMANCE.md.
 */
interface Row {
  route: 'command' | 'blockingRead';
  awaitedPct: number;
  events: number;
  waiters: number;
  answered: number;
  redisCommandsPerEvent: number;
  byCommand: Record<string, number>;
  relayCpuUsPerEvent: number;
  eventsPerSec: number;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const eventsArg = args.indexOf('--events');
  const events = eventsArg >= 0 ? Number(args[eventsArg + 1]) : quick ? 2_000 : 20_000;
  const stack = await useTestStack();
  const redis = new Redis(stack.redisUrl);
  const log = silentLogger();
  const kafka = createKafka(stack.kafkaBrokers, unique('bench-events'), log);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const rows: Row[] = [];
  try {
    for (const route of ['command', 'blockingRead'] as const) {
      for (const pct of [1, 10, 100]) {
        rows.push(await runOne(route, pct));
        const r = rows[rows.length - 1] as Row;
        process.stdout.write(
          `${route.padEnd(12)} ${String(pct).padStart(3)} % awaited: ${r.redisCommandsPerEvent.toFixed(2)} Redis commands/event, ` +
            `${r.relayCpuUsPerEvent.toFixed(1)} µs relay CPU/event, ${Math.round(r.eventsPerSec)} events/s, ` +
            `${r.answered}/${r.waiters} answered ${JSON.stringify(r.byCommand)}\n`,
        );
      }
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
    redis.disconnect();
    if (stack.source !== 'env') await stopTestStack();
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(
    dir,
    `events-${quick ? 'quick-' : ''}${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`,
  );
  writeFileSync(file, `${JSON.stringify({ events, cpus: cpus().length, rows }, null, 2)}\n`);
  process.stdout.write(`results: ${file}\n`);

  async function runOne(kind: Row['route'], pct: number): Promise<Row> {
    const topic = unique('bench.events');
    const prefix = `${unique('bench-ev')}:`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    const routes = parseRoutes(
      kind === 'command'
        ? `routes:\n  - { name: r, method: POST, path: /o, topic: cmd, timeoutMs: 600000, await: { topic: ${topic}, match: { key: body.id }, state: { field: value.status, in: [VALIDATED] } } }\n`
        : `routes:\n  - { name: r, method: GET, path: /o/:id, timeoutMs: 600000, await: { topic: ${topic}, match: { key: params.id }, state: { field: value.status, in: [VALIDATED] } } }\n`,
      { timeoutMs: 5000, maxBodyBytes: 1 << 20, forwardHeaders: [] },
    );
    const route = routes[0]!;
    const replies = new RedisReplyStore(redis, prefix, 60_000);
    const store = new RedisEventInterestStore(redis, prefix, replies);
    // Waiters first (as a replica registers before its command), every 1/pct-th entity.
    const step = Math.round(100 / pct);
    const awaited: number[] = [];
    for (let i = 0; i < events; i += step) awaited.push(i);
    for (let i = 0; i < awaited.length; i += 500) {
      await Promise.all(
        awaited.slice(i, i + 500).map((n) => {
          const id = `e-${n}`;
          const sources = { params: { id }, query: {}, headers: {}, body: { id } };
          return store.register(`bench.${n}`, buildEventInterest(route, sources, Date.now())!);
        }),
      );
    }
    for (let i = 0; i < events; i += 1000) {
      const messages = [];
      for (let n = i; n < Math.min(events, i + 1000); n++) {
        messages.push({
          key: `e-${n}`,
          value: JSON.stringify({ id: `e-${n}`, status: 'VALIDATED', pad: 'x'.repeat(200) }),
        });
      }
      // A topic just created may not be served by its leader yet: retry a little.
      for (let attempt = 0; ; attempt++) {
        try {
          await producer.send({ topic, messages });
          break;
        } catch (err) {
          if (attempt >= 20) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
    const metrics = new GatewayMetrics();
    const eventMetrics = new EventMetrics(metrics.registry);
    const relay = new EventRelay(
      kafka,
      store,
      replies,
      { groupId: unique('bench-events'), topics: [topic], rules: () => eventRules(routes), maxEventBytes: 1 << 20 },
      eventMetrics,
      metrics,
      log,
    );
    const read = async () => (await eventMetrics.events.get()).values.reduce((s, v) => s + v.value, 0);
    const before = await redisSnapshot(redis);
    const cpu = process.cpuUsage();
    await relay.start();
    // Throughput from the group joined (start resolves then) to the last answer stored.
    const started = process.hrtime.bigint();
    const stored = async () =>
      (await eventMetrics.answers.get()).values
        .filter((v) => v.labels['result'] === 'stored')
        .reduce((s, v) => s + v.value, 0);
    while ((await read()) < events || (await stored()) < awaited.length) await new Promise((r) => setTimeout(r, 10));
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    // The last batch's ZREMs follow its SETs; let them land before reading the counters.
    await new Promise((r) => setTimeout(r, 300));
    const used = process.cpuUsage(cpu);
    const after = await redisSnapshot(redis);
    await relay.stop();
    const answered = await stored();
    const byCommand = commandDelta(before, after);
    // The consumer's own commits and the group join are Kafka, not Redis: every command here is the relay's.
    const calls = Object.values(byCommand).reduce((s, n) => s + n, 0);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    return {
      route: kind,
      awaitedPct: pct,
      events,
      waiters: awaited.length,
      answered,
      redisCommandsPerEvent: calls / events,
      byCommand,
      relayCpuUsPerEvent: (used.user + used.system) / events,
      eventsPerSec: events / (wallMs / 1000),
    };
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:events: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
