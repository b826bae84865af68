import type { Kafka } from 'kafkajs';
import { parseRoutes, type RouteDefinition } from '../../src/config/routes-file';
import { EventMetrics } from '../../src/observability/event-metrics';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { silentLogger } from '../../src/observability/logger';
import type { EventInterest } from '../../src/protocol/event-await';
import type { RedisClient } from '../../src/redis/redis-connections';
import { RedisEventInterestStore } from '../../src/redis/redis-event-interest-store';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import { eventRules } from '../../src/relay/event-relay-host';
import { EventRelay } from '../../src/relay/event-relay';
import { buildEventInterest, resolveReplyInterest } from '../../src/routing/event-interest';
import { unique } from '../../test/support/unique';
import { commandDelta, redisSnapshot } from '../harness/redis-stats';

/**
 * The event relay's cost per event on a busy event topic (issue 15), at 1 %, 10 % and 100 % of
 * entities awaited, for the three kinds of event route: a command route (interest only), a
 * blocking read (latest state kept for every event) and a command route matched on the created id
 * (`reply.body.…`: latest state kept too, for the route's horizon). In process: waiters are
 * registered through the replica's own store, N events (one per entity) are produced, then an
 * `EventRelay` reads them all; measured over the read only: Redis commands and Redis CPU (INFO
 * commandstats / cpu), relay CPU (`process.cpuUsage`: the kafkajs consumer and the relay, nothing
 * else runs in the process meanwhile) and wall time. Run by `npm run bench` (its `events` phase)
 * and alone by `npm run bench:events`. See docs/PERFORMANCE.md.
 */
export type EventRouteKind = 'command' | 'blockingRead' | 'createdId';

/** One measured point. */
export interface EventsBenchRow {
  route: EventRouteKind;
  awaitedPct: number;
  events: number;
  waiters: number;
  answered: number;
  redisCommandsPerEvent: number;
  byCommand: Record<string, number>;
  /** Redis server CPU (used_cpu_user + used_cpu_sys) per event, µs. */
  redisCpuUsPerEvent: number;
  /** Relay CPU (this process: kafkajs consumer + EventRelay) per event, µs. */
  relayCpuUsPerEvent: number;
  eventsPerSec: number;
}

/** The events phase's raw result. */
export interface EventsBenchResult {
  events: number;
  partitions: number;
  rows: EventsBenchRow[];
}

/** Settings of {@link runEventsBench}. */
export interface EventsBenchOptions {
  kafka: Kafka;
  /** A standalone Redis (the stack's): its INFO counters are read around each point. */
  redis: RedisClient;
  /** Events per point (one per entity). */
  events: number;
  kinds?: readonly EventRouteKind[];
  percents?: readonly number[];
  /** One line per point, as it is measured. */
  progress?: (line: string) => void;
}

const PARTITIONS = 4;

/** The route of each kind, on `topic`. */
function routeOf(kind: EventRouteKind, topic: string): RouteDefinition {
  const state = 'state: { field: value.status, in: [VALIDATED] }';
  const yaml = {
    command: `{ name: r, method: POST, path: /o, topic: cmd, timeoutMs: 600000, await: { topic: ${topic}, match: { key: body.id }, ${state} } }`,
    blockingRead: `{ name: r, method: GET, path: /o/:id, timeoutMs: 600000, await: { topic: ${topic}, match: { key: params.id }, ${state} } }`,
    createdId: `{ name: r, method: POST, path: /o, topic: cmd, timeoutMs: 600000, await: { topic: ${topic}, match: { key: reply.body.id }, ${state} } }`,
  }[kind];
  return parseRoutes(`routes:\n  - ${yaml}\n`, { timeoutMs: 5000, maxBodyBytes: 1 << 20, forwardHeaders: [] })[0]!;
}

/** The interest a request for entity `id` registers (for `createdId`, once the command's reply named it). */
function interestOf(route: RouteDefinition, id: string): EventInterest {
  const interest = buildEventInterest(route, { params: { id }, query: {}, headers: {}, body: { id } }, Date.now())!;
  if (interest.pending === undefined) return interest;
  const resolved = resolveReplyInterest(interest, { headers: {}, body: { id } });
  if ('missing' in resolved) throw new Error(`bench route lacks ${resolved.missing}`);
  return resolved;
}

/**
 * Measure every kind at every percentage, one after the other, each on a topic of its own.
 *
 * @example
 * const result = await runEventsBench({ kafka, redis, events: 20_000 });
 */
export async function runEventsBench(options: EventsBenchOptions): Promise<EventsBenchResult> {
  const { kafka, redis, events } = options;
  const log = silentLogger();
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  const rows: EventsBenchRow[] = [];
  try {
    for (const kind of options.kinds ?? (['command', 'blockingRead', 'createdId'] as const)) {
      for (const pct of options.percents ?? [1, 10, 100]) {
        const r = await runOne(kind, pct);
        rows.push(r);
        options.progress?.(
          `${kind.padEnd(12)} ${String(pct).padStart(3)} % awaited: ${r.redisCommandsPerEvent.toFixed(2)} Redis commands/event, ` +
            `${r.relayCpuUsPerEvent.toFixed(1)} µs relay CPU/event, ${r.redisCpuUsPerEvent.toFixed(1)} µs Redis CPU/event, ` +
            `${Math.round(r.eventsPerSec)} events/s, ${r.answered}/${r.waiters} answered ${JSON.stringify(r.byCommand)}`,
        );
      }
    }
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return { events, partitions: PARTITIONS, rows };

  async function runOne(kind: EventRouteKind, pct: number): Promise<EventsBenchRow> {
    const topic = unique('bench.events');
    const prefix = `${unique('bench-ev')}:`;
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    const route = routeOf(kind, topic);
    const routes = [route];
    const replies = new RedisReplyStore(redis, prefix, 60_000);
    const store = new RedisEventInterestStore(redis, prefix, replies);
    // Waiters first (as a replica registers before its command), every 1/pct-th entity.
    const step = Math.round(100 / pct);
    const awaited: number[] = [];
    for (let i = 0; i < events; i += step) awaited.push(i);
    for (let i = 0; i < awaited.length; i += 500) {
      await Promise.all(
        awaited.slice(i, i + 500).map((n) => store.register(`bench.${n}`, interestOf(route, `e-${n}`))),
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
      redisCpuUsPerEvent: ((after.cpuMs - before.cpuMs) * 1000) / events,
      relayCpuUsPerEvent: (used.user + used.system) / events,
      eventsPerSec: events / (wallMs / 1000),
    };
  }
}

/** The events phase as a Markdown table (for the bench report). */
export function eventsMarkdown(result: EventsBenchResult): string {
  const lines = [
    `## Event routes: cost per event (${result.events} events per row, ${result.partitions} partitions)`,
    '',
    '| route | awaited | Redis commands / event | by command | relay CPU / event | Redis CPU / event | events / s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rows) {
    const by = Object.entries(r.byCommand)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    lines.push(
      `| ${r.route} | ${r.awaitedPct} % | ${r.redisCommandsPerEvent.toFixed(2)} | ${by} | ${r.relayCpuUsPerEvent.toFixed(0)} µs | ${r.redisCpuUsPerEvent.toFixed(1)} µs | ${Math.round(r.eventsPerSec)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
