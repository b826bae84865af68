import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { createKafka, loadKafkaConnection } from '../src/kafka/kafka-client';
import { createLogger } from '../src/observability/logger';
import type { RedisClient } from '../src/redis/redis-connections';
import { testRedis } from '../test/support/test-redis';
import { stopTestStack, useTestStack } from '../test/support/test-stack';
import { RedisShapeStack } from './faults/redis-stack';
import { type BenchProcess, startNode } from './harness/child-process';
import { buildNestPeer, buildSpringPeer } from './harness/peers';
import { BENCH_REF, buildRef } from './harness/build-ref';
import { runClosedLoop } from './harness/closed-loop';
import { parkRequests, pendingGauge, runHttpOpenLoop } from './harness/http-load';
import { scrapeLoopLag, worstLag } from './harness/loop-lag';
import { cpuMs, rssBytes, runQueueWaitMs, totalCpuMs, totalRunQueueWaitMs } from './harness/proc-stats';
import { commandDelta, redisSnapshot, redisSubscriberLayout } from './harness/redis-stats';
import { relayCosts, relaySnapshot } from './harness/relay-stats';
import {
  SAMPLE,
  parseVariantSpec,
  type RunningVariant,
  specLabel,
  startVariant,
  type VariantName,
  type VariantSpec,
} from './harness/variants';
import { writeReport } from './report/write-report';
import { runEventsBench } from './events/events-bench';
import type { BenchResults, ClosedRun, OpenRun, ParkRun, RunCosts, VariantResult } from './report/results';
import { payload } from './load/payload';

/**
 * `npm run bench [-- --quick] [-- --variants a,b] [-- --tag name] [-- --profile] [-- --no-events]
 * [-- --events N]`
 * One run, one machine: every variant against the same Kafka, Redis and echo responder, one
 * after the other. See docs/PERFORMANCE.md. A `-cluster` variant (`replygate-split-cluster`)
 * gets a Redis Cluster of its own (scripts/stack.sh with STACK_REDIS_SHAPE=cluster: three
 * masters, three replicas, in `.stack/bench-cluster-<pid>`, down at the end) and the same Kafka;
 * its Redis commands and CPU are summed over the cluster's masters. Last, once the variants are
 * stopped, the events phase (`bench/events/events-bench.ts`, issue 15): Redis commands, Redis CPU
 * and relay CPU per event at 1 %, 10 % and 100 % of events awaited, in this process, on the same
 * stack (`--no-events` skips it; `--events N` events per point, default 20000, 2000 with --quick).
 */
interface Plan {
  quick: boolean;
  variants: VariantSpec[];
  payloads: number[];
  concurrencies: number[];
  rates: number[];
  closedMs: number;
  openMs: number;
  warmupMs: number;
  /** The floor's load on a fresh broker before any variant is measured (`--broker-warmup S`). */
  brokerWarmupMs: number;
  rounds: number;
  parkCount: number;
  tag: string;
  profile: boolean;
  extraEnv: Record<string, string>;
  /** Events per point of the events phase; 0 skips it (`--no-events`). */
  events: number;
}

function plan(argv: string[]): Plan {
  const quick = argv.includes('--quick');
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  // The before/after switches of earlier changes (replygate-all-nolw, -commit0, -linger) have their
  // committed runs; name them with --variants to measure them again.
  // The topologies operators run, beside the floor and the two peers (issue 17), and the split
  // deployment on a standalone Redis and on a Redis Cluster (a second stack's Redis, same Kafka:
  // what the cluster wake costs, issue 14), and one `all` replica (what one process per core
  // does on this two-core machine). The earlier comparisons (polling, affinity, -nobatch) are a
  // --variants away.
  const all: VariantName[] = [
    'floor',
    'replygate-all',
    'replygate-3all',
    'replygate-3http-2relay',
    'replygate-split',
    'replygate-split-cluster',
    'spring',
    'nest',
  ];
  // `name@K=V+K2=V2` runs a variant with extra settings, side by side with the plain one.
  const variants = (arg('--variants')?.split(',') ?? (quick ? ['floor', 'replygate-all', 'polling'] : all)).map(
    parseVariantSpec,
  );
  const extraEnv: Record<string, string> = {};
  for (const kv of (arg('--env') ?? '').split(',').filter(Boolean)) {
    const [k, ...v] = kv.split('=');
    extraEnv[k as string] = v.join('=');
  }
  return {
    quick,
    variants,
    // 4 KiB too with --payloads 100,4096 (about 8 more minutes).
    payloads: (arg('--payloads') ?? '100').split(',').map(Number),
    concurrencies: (arg('--concurrencies') ?? (quick ? '1,64' : '64,256')).split(',').map(Number),
    rates: (arg('--rates') ?? (quick ? '150' : '150,300')).split(',').map(Number),
    closedMs: quick ? 2000 : 3000,
    openMs: quick ? 3000 : 5000,
    warmupMs: quick ? 1000 : 3000,
    brokerWarmupMs: Number(arg('--broker-warmup') ?? (quick ? 5 : 40)) * 1000,
    rounds: Number(arg('--rounds') ?? (quick ? 1 : 3)),
    parkCount: Number(arg('--park') ?? (quick ? 0 : parkable(100_000))),
    tag: arg('--tag') ?? (quick ? 'quick' : ''),
    profile: argv.includes('--profile'),
    extraEnv,
    events: argv.includes('--no-events') ? 0 : Number(arg('--events') ?? (quick ? 2_000 : 20_000)),
  };
}

/**
 * How many requests one replica can hold parked here: `wanted`, or fewer when the open-files limit
 * (one socket per parked request, in the replica and in this process) is lower. The limit applies
 * to the peers' processes too; raise it (`ulimit -n`) to park more.
 */
function parkable(wanted: number): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const limit = m === null || m[1] === 'unlimited' ? Infinity : Number(m[1]);
  return Math.min(wanted, Math.floor((limit - 2_000) / 1000) * 1000);
}

/** Build the peers named among the variants (bench/peers/README.md). */
function buildPeers(p: Plan): { springJar?: string; nestMain?: string } {
  const bases = new Set(p.variants.map((v) => v.base));
  return {
    ...(bases.has('spring') ? { springJar: buildSpringPeer(log) } : {}),
    ...(bases.has('nest') ? { nestMain: buildNestPeer(log) } : {}),
  };
}

async function main(): Promise<void> {
  const p = plan(process.argv.slice(2));
  const peers = buildPeers(p);
  const startedAt = new Date();
  const root = resolve(__dirname, '..');
  log(`building bench/.build (tsc)`);
  try {
    execFileSync(
      process.execPath,
      [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', resolve(__dirname, 'tsconfig.json')],
      {
        stdio: 'inherit',
      },
    );
  } catch {
    // tsc still emits on type errors; the run goes on with what was built (and says so).
    log('tsc reported type errors (see above); running with the emitted JavaScript');
  }
  const stack = await useTestStack();
  log(`stack: ${stack.source} kafka=${stack.kafkaBrokers.join(',')} redis=${stack.redisShape} ${stack.redisUrl}`);
  const redis = await testRedis(stack, 'replygate-bench');
  // The Redis Cluster of the -cluster variants (its own Kafka broker idles: the variants use the main one).
  const clusterStack = p.variants.some((v) => v.base.endsWith('-cluster'))
    ? await RedisShapeStack.up(resolve(root, `.stack/bench-cluster-${process.pid}`), 'cluster', false)
    : undefined;
  const clusterRedis = clusterStack ? await testRedis(clusterStack.stack, 'replygate-bench') : undefined;
  if (clusterStack)
    log(`redis cluster for the -cluster variants: ${clusterStack.stack.redisEnv['REDIS_CLUSTER_NODES']}`);
  const runId = startedAt
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(4, 14);
  const echoTopic = `bench.${runId}.echo`;
  const parkTopic = `bench.${runId}.park`;
  // Kafka TLS/SASL from the gateway's variables (KAFKA_SECURITY_PROTOCOL...), as the variants' processes read them.
  const kafka = createKafka(stack.kafkaBrokers, 'bench-admin', createLogger('warn'), loadKafkaConnection(process.env));
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: echoTopic, numPartitions: 4 },
      { topic: parkTopic, numPartitions: 1 },
    ],
    waitForLeaders: true,
  });
  const createTopics = async (topics: { topic: string; partitions: number }[]): Promise<void> => {
    await admin.createTopics({
      topics: topics.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
      waitForLeaders: true,
    });
  };
  const routesDir = mkdtempSync(join(os.tmpdir(), 'replygate-bench-'));
  const routesFile = join(routesDir, 'routes.yaml');
  writeFileSync(
    routesFile,
    `routes:\n  - name: echo\n    method: POST\n    path: /echo\n    topic: ${echoTopic}\n    timeoutMs: 30000\n` +
      `  - name: park\n    method: POST\n    path: /park\n    topic: ${parkTopic}\n    timeoutMs: 600000\n`,
  );
  const profileDir = resolve(__dirname, 'profiles', runId);
  const nodeFlags = (name: string): string[] =>
    p.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`] : [];
  if (!existsSync(SAMPLE)) throw new Error(`${SAMPLE} missing: run \`npm run build\` first`);
  const responder: BenchProcess = await startNode(
    'echo',
    [SAMPLE, 'echo', '--topic', echoTopic, '--group', `bench-${runId}-echo`],
    { KAFKA_BROKERS: stack.kafkaBrokers.join(',') },
  );
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    tag: p.tag,
    machine: machineInfo(),
    plan: { ...p },
    variants: [],
  };
  const running: (RunningVariant & { redis: RedisClient })[] = [];
  // What every variant shares: the stack, the run's topics and routes, the peers.
  const shared = { kafkaBrokers: stack.kafkaBrokers, runId, routesFile, echoTopic, parkTopic, createTopics, peers };
  const start = async (i: number): Promise<RunningVariant & { redis: RedisClient }> => {
    const spec = p.variants[i] as VariantSpec;
    log(`variant ${spec.id}: starting`);
    const { [BENCH_REF]: ref, ...env } = spec.env;
    const started = await startVariant(
      {
        ...shared,
        redisEnv: spec.base.endsWith('-cluster') ? clusterStack!.stack.redisEnv : stack.redisEnv,
        nodeFlags,
        extraEnv: { ...p.extraEnv, ...env },
        ...(ref !== undefined ? { cli: buildRef(ref, log) } : {}),
        suffix: Object.keys(spec.env).length > 0 ? `v${i}` : '',
      },
      spec.base,
    );
    const v = { ...started, name: spec.id, redis: spec.base.endsWith('-cluster') ? clusterRedis! : redis };
    running.push(v);
    return v;
  };
  const stop = async (v: RunningVariant): Promise<void> => {
    await Promise.all(v.processes.map((proc) => proc.stop()));
    running.splice(running.indexOf(v as RunningVariant & { redis: RedisClient }), 1);
  };
  try {
    if (p.brokerWarmupMs > 0) {
      // A fresh broker's JVM (and the echo responder) take tens of seconds to reach speed: the
      // floor's c=64 rounds went 607, 1141, 1629, 1423/s back to back. Warm them before any variant.
      log(`broker warm-up: the floor at c=64 for ${p.brokerWarmupMs / 1000} s (not measured)`);
      const warm = await startVariant(
        { ...shared, redisEnv: stack.redisEnv, nodeFlags: () => [], extraEnv: p.extraEnv, suffix: 'warm' },
        'floor',
      );
      try {
        await closedRun(warm, 64, p.brokerWarmupMs, payload(100));
      } finally {
        await Promise.all(warm.processes.map((proc) => proc.stop()));
      }
    }
    results.variants = await measureIsolated(p, start, stop, responder.pid, parkTopic);
    // The responder stops first: the events phase's CPU and Redis counters are the relay's alone.
    await responder.stop();
    if (p.events > 0) {
      log(`events phase: ${p.events} events per point`);
      results.events = await runEventsBench({
        kafka: createKafka(stack.kafkaBrokers, 'bench-events', createLogger('warn'), loadKafkaConnection(process.env)),
        redis,
        events: p.events,
        progress: (line) => log(`  ${line}`),
      });
    }
  } finally {
    await Promise.all(running.flatMap((v) => v.processes.map((proc) => proc.stop())));
    await responder.stop();
    await admin.disconnect();
    redis.disconnect();
    clusterRedis?.disconnect();
    await clusterStack?.down();
    await stopTestStack();
  }
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  const base = resolve(__dirname, 'results', `${stamp}${p.tag ? `-${p.tag}` : ''}`);
  mkdirSync(resolve(__dirname, 'results'), { recursive: true });
  results.elapsedSec = Math.round((Date.now() - startedAt.getTime()) / 1000);
  writeReport(results, base);
  log(`wrote ${base}.json, .md, .svg (${results.elapsedSec} s)`);
}

/**
 * Only the variant being measured runs: each round starts every variant in turn (one later each
 * round, so none is always first or last), warms it up, measures its idle CPU and every point
 * (closed loop at each concurrency, open loop at each rate, for each payload), parks requests on it
 * (first round only) and stops it. Idle variants are not idle enough to share the machine with a
 * measurement: three Spring JVMs, three NestJS processes and a dozen kafkajs clients polling took
 * about one of the two cores here with no load, and the floor answered 364/s instead of thousands.
 * Each point keeps the median of its rounds; the rounds spread the machine's drift over all variants.
 */
async function measureIsolated(
  p: Plan,
  start: (i: number) => Promise<RunningVariant & { redis: RedisClient }>,
  stop: (v: RunningVariant) => Promise<void>,
  responderPid: number,
  parkTopic: string,
): Promise<VariantResult[]> {
  const n = p.variants.length;
  const results = p.variants.map((spec): VariantResult => ({
    name: spec.id,
    label: specLabel(spec),
    closed: [],
    open: [],
  }));
  const closed: ClosedRun[][][] = p.variants.map(() => []);
  const open: OpenRun[][][] = p.variants.map(() => []);
  const idle: number[][] = p.variants.map(() => []);
  for (let round = 0; round < p.rounds; round++) {
    for (let k = 0; k < n; k++) {
      const i = (k + round) % n;
      const v = await start(i);
      try {
        let point = 0;
        let openPoint = 0;
        for (const bytes of p.payloads) {
          const body = payload(bytes);
          // JIT, connections, fetch sessions; a JVM's JIT takes longer to settle than V8's.
          await closedRun(v, 16, v.jvm ? Math.max(p.warmupMs, 15_000) : p.warmupMs, body);
          const idleNow = await idleCpuMsPerSec(v);
          idle[i]!.push(idleNow);
          if (round === 0 && results[i]!.redisSubscribers === undefined) {
            results[i]!.redisSubscribers = await redisSubscriberLayout(v.redis);
            log(`  ${v.name} subscribers per master: ${JSON.stringify(results[i]!.redisSubscribers)}`);
          }
          for (const c of p.concurrencies) {
            const measured = await sample(v, v.redis, responderPid, () => closedRun(v, c, p.closedMs, body), idleNow);
            (closed[i]![point++] ??= []).push({ payloadBytes: bytes, concurrency: c, round, ...measured });
          }
          for (const rate of p.rates) {
            const measured = await sample(v, v.redis, responderPid, () => openRun(v, rate, p.openMs, body), idleNow);
            (open[i]![openPoint++] ??= []).push({ payloadBytes: bytes, rate, round, ...measured });
          }
        }
        if (round === 0 && p.parkCount > 0) {
          try {
            results[i]!.park = await parkRun(v, p.parkCount, parkTopic);
            log(`  ${v.name} parked ${p.parkCount}: ${results[i]!.park!.bytesPerParked.toFixed(0)} B/request`);
          } catch (err) {
            // A variant that cannot hold that many (polling: one GET per parked request per tick) is a result too.
            results[i]!.parkError = (err as Error).message;
            log(`  ${v.name} could not park ${p.parkCount}: ${(err as Error).message}`);
          }
        }
      } finally {
        await stop(v);
      }
      log(`  round ${round + 1}/${p.rounds}: ${v.name} measured`);
    }
  }
  for (let i = 0; i < n; i++) {
    const name = results[i]!.name;
    results[i]!.idleCpuMsPerSec = median(idle[i]!, (x) => x);
    for (const rs of closed[i]!) {
      const run = median(rs, (r) => r.rps);
      results[i]!.closed.push({ ...run, rounds: rs.map((r) => r.rps) });
      log(
        `  ${name} ${run.payloadBytes} B c=${run.concurrency}: ${run.rps.toFixed(0)} rps [${rs.map((r) => r.rps.toFixed(0)).join(' ')}], cpu ${run.gatewayCpuMsPer1k.toFixed(0)} ms/1k (net of idle ${run.gatewayCpuMsPer1kNet?.toFixed(0)}), redis ${run.redisCommandsPerRequest.toFixed(2)} cmd/req`,
      );
    }
    for (const rs of open[i]!) {
      const run = median(rs, (r) => r.latency.p99);
      results[i]!.open.push({ ...run, rounds: rs.map((r) => [r.latency.p50, r.latency.p99]) });
      const l = run.latency;
      const q = run.runQueueMsPerSec;
      log(
        `  ${name} ${run.payloadBytes} B ${run.rate}/s: p50 ${l.p50} p99 ${l.p99} p99.9 ${l.p999} ms (${l.errors} errors) [p99s ${rs.map((r) => r.latency.p99.toFixed(1)).join(' ')}]` +
          ` loop lag p99/max ${run.loopLag?.p99Ms.toFixed(1)}/${run.loopLag?.maxMs.toFixed(1)} ms, run-queue ms/s gw ${q?.gateway.toFixed(0)} resp ${q?.responder.toFixed(0)} loadgen ${q?.loadGenerator.toFixed(0)}`,
      );
    }
  }
  return results;
}

/** The element with the median key (the lower middle one for an even count). */
function median<T>(xs: T[], key: (x: T) => number): T {
  const sorted = [...xs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

/** What {@link sample} measures around a run (every field, the run-queue figures included). */
type Sampled = Required<Omit<RunCosts, 'relay' | 'gatewayCpuMsPer1kNet'>> &
  Pick<RunCosts, 'relay' | 'gatewayCpuMsPer1kNet'>;

/** CPU the variant's gateway processes use over 3 s with no load, in ms per second. */
async function idleCpuMsPerSec(v: RunningVariant): Promise<number> {
  await new Promise((r) => setTimeout(r, 500)); // let the last run's replies drain
  const g0 = totalCpuMs(v.gatewayPids);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  return (totalCpuMs(v.gatewayPids) - g0) / ((Date.now() - t0) / 1000);
}

/**
 * Run `work`, recording CPU of the gateway, responder and Redis and Redis commands around it;
 * with the variant's idle CPU rate, also the gateway CPU net of it.
 */
async function sample<T extends { ok: number }>(
  v: RunningVariant,
  redis: RedisClient,
  responderPid: number,
  work: () => Promise<T>,
  idleMsPerSec?: number,
): Promise<T & Sampled> {
  const r0 = await redisSnapshot(redis);
  const relay0 = v.relays ? await relaySnapshot(v.relays) : undefined;
  const g0 = totalCpuMs(v.gatewayPids);
  const e0 = cpuMs(responderPid);
  const q0 = [totalRunQueueWaitMs(v.gatewayPids), runQueueWaitMs(responderPid), runQueueWaitMs(process.pid)];
  const t0 = Date.now();
  const out = await work();
  const seconds = (Date.now() - t0) / 1000;
  const q1 = [totalRunQueueWaitMs(v.gatewayPids), runQueueWaitMs(responderPid), runQueueWaitMs(process.pid)];
  const g1 = totalCpuMs(v.gatewayPids);
  const e1 = cpuMs(responderPid);
  const r1 = await redisSnapshot(redis);
  const relay1 = v.relays ? await relaySnapshot(v.relays) : undefined;
  const per1k = (ms: number): number => (out.ok > 0 ? (ms / out.ok) * 1000 : NaN);
  return {
    ...out,
    requests: out.ok,
    gatewayCpuMsPer1k: per1k(g1 - g0),
    ...(idleMsPerSec !== undefined ? { gatewayCpuMsPer1kNet: per1k(g1 - g0 - idleMsPerSec * seconds) } : {}),
    responderCpuMsPer1k: per1k(e1 - e0),
    redisCpuMsPer1k: per1k(r1.cpuMs - r0.cpuMs),
    redisCommandsPerRequest: out.ok > 0 ? (r1.calls - r0.calls) / out.ok : NaN,
    redisCommands: commandDelta(r0, r1),
    ...(relay0 && relay1 ? { relay: relayCosts(relay0, relay1, out.ok) } : {}),
    runQueueMsPerSec: {
      gateway: ((q1[0] as number) - (q0[0] as number)) / seconds,
      responder: ((q1[1] as number) - (q0[1] as number)) / seconds,
      // The floor drives its own load: the bench process idles then.
      loadGenerator: v.floor ? 0 : ((q1[2] as number) - (q0[2] as number)) / seconds,
    },
  };
}

async function closedRun(v: RunningVariant, concurrency: number, durationMs: number, body: Buffer) {
  if (v.floor) {
    v.floor.child.stdin!.write(
      `${JSON.stringify({ cmd: 'closed', concurrency, durationMs, payloadBytes: body.length })}\n`,
    );
    const r = (await v.floor.next())['result'] as { requests: number; errors: number; rps: number };
    return { rps: r.rps, ok: r.requests, errors: r.errors };
  }
  const r = await runClosedLoop(v.ports, concurrency, durationMs, body);
  return { rps: r.rps, ok: r.ok, errors: r.errors };
}

async function openRun(v: RunningVariant, rate: number, durationMs: number, body: Buffer) {
  if (v.floor) {
    v.floor.child.stdin!.write(`${JSON.stringify({ cmd: 'open', rate, durationMs, payloadBytes: body.length })}\n`);
    const { loopLag, ...latency } = (await v.floor.next())['result'] as OpenRun['latency'] & {
      loopLag: OpenRun['loopLag'];
    };
    return { ok: latency.ok, latency, loopLag };
  }
  await Promise.all(v.ports.map((port) => scrapeLoopLag(port))); // resets the replicas' monitors
  const latency = await runHttpOpenLoop(v.ports, rate, durationMs, body);
  const loopLag = worstLag(await Promise.all(v.ports.map((port) => scrapeLoopLag(port))));
  return { ok: latency.ok, latency, ...(loopLag ? { loopLag } : {}) };
}

async function parkRun(v: RunningVariant, count: number, parkTopic: string): Promise<ParkRun> {
  if (v.floor) {
    v.floor.child.stdin!.write(`${JSON.stringify({ cmd: 'park', count, topic: parkTopic })}\n`);
    const r = (await v.floor.next())['result'] as { rssBeforeBytes: number; rssAfterBytes: number };
    return { parked: count, ...r, bytesPerParked: (r.rssAfterBytes - r.rssBeforeBytes) / count };
  }
  const target = v.park as { port: number; pid: number };
  const pendingOf = v.pendingOf ?? pendingGauge;
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 1000));
  await settle();
  const rssBeforeBytes = rssBytes(target.pid);
  let rssConnectedBytes = 0;
  const parked = await parkRequests(
    target.port,
    count,
    () => pendingOf(target.port),
    async (stage) => {
      await settle();
      if (stage === 'connected') rssConnectedBytes = rssBytes(target.pid);
    },
  );
  const rssAfterBytes = rssBytes(target.pid);
  parked.release();
  const deadline = Date.now() + 30_000;
  while ((await pendingOf(target.port)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return {
    parked: count,
    rssBeforeBytes,
    rssConnectedBytes,
    rssAfterBytes,
    bytesPerParked: (rssAfterBytes - rssBeforeBytes) / count,
    bytesPerConnection: (rssConnectedBytes - rssBeforeBytes) / count,
    bytesPerRequestOnConnection: (rssAfterBytes - rssConnectedBytes) / count,
  };
}

function machineInfo(): BenchResults['machine'] {
  return {
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  };
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
