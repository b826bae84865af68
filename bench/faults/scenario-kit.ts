import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { RedisClient } from '../../src/redis/redis-connections';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import { createResponder } from '../../src/responder/create-responder';
import { type Responder } from '../../src/responder/responder-options';
import { createEchoHandler } from '../../examples/samples/echo-handler';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { silentLogger, type Logger } from '../../src/observability/logger';
import type { TestStack } from '../../test/support/test-stack';
import {
  createTopics,
  stackConnection,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../../test/support/gateway-fixture';
import type { KafkaConnectionSettings } from '../../src/config/kafka-connection';
import { scanAll, testRedis } from '../../test/support/test-redis';
import { unique } from '../../test/support/unique';
import { Deployment, httpGet, type DeploymentCounters } from './deployment';
import { LoadGenerator, type RequestRecord } from './load-generator';
import type { ClusterStack } from '../../test/support/cluster-stack';
import type { RedisFaultShape, RedisShapeStack } from './redis-stack';
import { EventService } from '../../test/support/event-service';

/** One invariant a scenario checks, with what was seen. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** The figures of one scenario run (one row of docs/RELIABILITY.md). */
export interface ScenarioResult {
  id: number;
  title: string;
  mode: 'quick' | 'full';
  load: { ratePerSecond: number; https: number; relays: number; routeTimeoutMs: number };
  durationS: number;
  sent: number;
  ok: number;
  wrong: number;
  /** Errors by status, e.g. { "503 RG_UNAVAILABLE": 12 }. */
  errors: Record<string, number>;
  /** Connections dropped before an answer, by whether the origin had been taken down. */
  dropped: { originDown: number; originUp: number };
  /** Dropped connections by client error code and origin state, e.g. { "ECONNRESET stopped": 1 }. */
  droppedBy: Record<string, number>;
  neverAnswered: { originDown: number; originUp: number };
  /** Requests the load balancer retried on another replica (refused or draining). */
  retried: number;
  /** Requests not started because too many were in flight. */
  shed: number;
  duplicatesAbsorbed: number;
  lateReplies: number;
  checks: Check[];
  /** Scenario-specific measurements. */
  facts: Record<string, unknown>;
  skipped?: string;
}

/** What every scenario gets. */
export interface ScenarioContext {
  stack: TestStack;
  quick: boolean;
  log: (line: string) => void;
  /** Extra env for every replica (e.g. REPLYGATE_RELAY_SESSION_TIMEOUT_MS=30000 to compare). */
  env?: Record<string, string>;
  /** Requests per second instead of the mode's (80 quick, 300 full). */
  rate?: number;
  /**
   * The private three-broker stack of the scenarios that need one (started at the first call,
   * shared by the scenarios of a run); undefined where the runner cannot start one.
   */
  cluster?: () => Promise<ClusterStack>;
  /**
   * The private Redis Cluster or Sentinel stack of the scenarios that need one (started at the
   * first call for that shape, shared by the scenarios of a run); undefined where the runner
   * cannot start one.
   */
  redisStack?: (shape: RedisFaultShape) => Promise<RedisShapeStack>;
}

/** One fault scenario of issue 3. */
export interface Scenario {
  id: number;
  title: string;
  /** Fast enough for the integration test's quick run. */
  inTestSuite: boolean;
  /** Runs on the three-broker stack ({@link ScenarioContext.cluster}), not on `stack`. */
  brokers?: 3;
  /** Runs on a Redis of this shape ({@link ScenarioContext.redisStack}), not on `stack`. */
  redis?: RedisFaultShape;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Settings shared by the scenarios, per mode. */
export function loadFor(ctx: ScenarioContext): { rate: number; routeTimeoutMs: number } {
  return { rate: ctx.rate ?? (ctx.quick ? 80 : 300), routeTimeoutMs: 3000 };
}

export interface Rig {
  dep: Deployment;
  echo: Responder;
  extra: Responder[];
  /** A client of the stack's Redis, of its shape (a Cluster client on a cluster). */
  redis: RedisClient;
  topics: Record<string, string>;
  /** The echo service's consumer group. */
  echoGroup: string;
  /** With `events`: the service that answers `POST /order/:id` with events (no replygate headers). */
  eventService: EventService | undefined;
  /** With `events`: the relays' event group (REPLYGATE_EVENT_GROUP). */
  eventGroup: string | undefined;
  /** What the echo service logged at warn and above: `{ time, msg }` (JSON lines). */
  echoWarnings: { time: number; msg: string }[];
  /** When the echo service joined its consumer group (the first join, then one per rebalance). */
  echoJoins: number[];
  /** Set by {@link underLoad}: the warm-up before the judged load (not judged; reported in the facts). */
  warmUp?: { ms: number; sent: number; ok: number; echoExpired: number; keptUp: boolean };
  /** Set by {@link underLoad}: the deployment's counters 1 s after the warm-up's last request ended. */
  countersAfterWarmUp?: DeploymentCounters;
  close(): Promise<void>;
}

/** The shortest warm-up before each scenario's judged load, at its rate (full mode). */
export const WARM_UP_MS = 3_000;
/** The longest: a deployment that has not kept up by then is judged as it is (and says so). */
export const WARM_UP_MAX_MS = 30_000;

/**
 * Whether the deployment keeps up with its load: every request sent in the last second whose
 * answer is due by now (route timeout + 500 ms ago) was answered 200, and none is still open.
 */
export function keepsUp(records: RequestRecord[], rate: number, routeTimeoutMs: number, now = Date.now()): boolean {
  const end = now - routeTimeoutMs - 500;
  const due = records.filter((x) => x.sentAt >= end - 1_000 && x.sentAt < end);
  return due.length >= rate * 0.9 && due.every((x) => x.outcome.kind === 'ok');
}

/**
 * A logger that keeps its warn and error lines (time and message) in `into`, and the times of its
 * `joined consumer group` lines (a responder's group joins) in `joins`.
 */
function warningsInto(into: { time: number; msg: string }[], joins: number[] = []): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        try {
          const l = JSON.parse(line) as { time?: number; msg?: string; level?: number };
          if (l.msg === 'joined consumer group') joins.push(l.time ?? Date.now());
          else if ((l.level ?? 50) >= 40) into.push({ time: l.time ?? Date.now(), msg: String(l.msg) });
        } catch {
          // not JSON
        }
      }
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** Topics, routes, an echo service (plus optional slow/silent topics), N http replicas and M relays. */
export async function rig(
  ctx: ScenarioContext,
  tag: string,
  opts: {
    https?: number;
    relays?: number;
    routeTimeoutMs: number;
    env?: Record<string, string>;
    lateRoutes?: boolean;
    /** Also `POST /any/:id`: the echo topic without a partition key (the producer picks the partition). */
    keyless?: boolean;
    /** Reply topic, relay group and key prefix, when the scenario chose them (else new ones). */
    names?: GatewayNames;
    /** The echo service's consumer group, when the scenario chose it (else a new one). */
    echoGroup?: string;
    /** Requests the echo service answers at once per partition (responder perPartitionConcurrency; default 1). */
    echoConcurrency?: number;
    /**
     * Redundant relay groups (REPLYGATE_RELAY_GROUPS; the relays are dealt round them). Default: the
     * run's `--env` value, else 1.
     */
    relayGroups?: number;
    /**
     * Also `POST /order/:id`, an event-await route (issue 15): its command goes to `topics.commands`,
     * an {@link EventService} emits `CREATED` then `VALIDATED` on `topics.events` (6 partitions,
     * keyed by the id), and the request is answered with the `VALIDATED` event. The relays read it in
     * an event group of the deployment's own (REPLYGATE_EVENT_GROUP).
     */
    events?: boolean;
    /** With `events`: the service emits its events this long after the command. @defaultValue 0 */
    eventDelayMs?: number;
  },
): Promise<Rig> {
  const names = opts.names ?? uniqueGatewayNames(`faults-${tag}`);
  const topics = {
    echo: unique(`faults-${tag}.echo`),
    slow: unique(`faults-${tag}.slow`),
    silent: unique(`faults-${tag}.silent`),
    commands: unique(`faults-${tag}.commands`),
    events: unique(`faults-${tag}.events`),
  };
  // A freshly created topic's metadata can lag on the broker ("does not host this topic-partition"):
  // creation is idempotent, so try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await createTopics(
        ctx.stack,
        [topics.echo, topics.slow, topics.silent, ...(opts.events ? [topics.commands, topics.events] : [])],
        6,
      );
      await createTopics(ctx.stack, [names.replyTopic], 4);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(500 * attempt);
    }
  }
  let yaml = `
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${topics.echo}
    key: params.id
    timeoutMs: ${opts.routeTimeoutMs}
`;
  if (opts.keyless) {
    yaml += `
  - name: any
    method: POST
    path: /any/:id
    topic: ${topics.echo}
    timeoutMs: ${opts.routeTimeoutMs}
`;
  }
  if (opts.lateRoutes) {
    yaml += `
  - name: late
    method: POST
    path: /late/:id
    topic: ${topics.slow}
    key: params.id
    timeoutMs: 1000
  - name: silent
    method: POST
    path: /silent/:id
    topic: ${topics.silent}
    timeoutMs: 1000
`;
  }
  const eventGroup = opts.events ? unique(`faults-${tag}-events`) : undefined;
  if (opts.events) {
    yaml += `
  - name: order
    method: POST
    path: /order/:id
    topic: ${topics.commands}
    key: params.id
    timeoutMs: ${opts.routeTimeoutMs}
    await: { topic: ${topics.events}, match: { key: params.id }, state: { field: value.status, in: [VALIDATED] } }
`;
  }
  const dep = new Deployment(ctx.stack, names, writeRoutes(yaml), {
    LOG_LEVEL: 'warn',
    ...(eventGroup === undefined ? {} : { REPLYGATE_EVENT_GROUP: eventGroup }),
    ...(ctx.env ?? {}),
    ...(opts.relayGroups === undefined ? {} : { REPLYGATE_RELAY_GROUPS: String(opts.relayGroups) }),
    ...(opts.env ?? {}),
  });
  const echoGroup = opts.echoGroup ?? unique('faults-echo');
  const echoWarnings: { time: number; msg: string }[] = [];
  const echoJoins: number[] = [];
  const echo = createResponder({
    brokers: ctx.stack.kafkaBrokers,
    ...connectionOf(ctx),
    topic: topics.echo,
    groupId: echoGroup,
    handler: createEchoHandler(),
    partitionsConsumedConcurrently: 6,
    ...(opts.echoConcurrency ? { perPartitionConcurrency: opts.echoConcurrency } : {}),
    logger: warningsInto(echoWarnings, echoJoins),
  });
  const extra: Responder[] = [];
  if (opts.lateRoutes) {
    extra.push(
      createResponder({
        brokers: ctx.stack.kafkaBrokers,
        ...connectionOf(ctx),
        topic: topics.slow,
        groupId: unique('faults-slow'),
        handler: createEchoHandler(),
        partitionsConsumedConcurrently: 6,
        logger: silentLogger(),
      }),
    );
  }
  const eventService = opts.events
    ? new EventService(
        testKafka(ctx.stack),
        topics.commands,
        topics.events,
        unique('faults-event-service'),
        opts.eventDelayMs,
      )
    : undefined;
  await Promise.all([
    echo.start(),
    ...extra.map((r) => r.start()),
    eventService?.start(),
    dep.start(opts.https ?? 2, opts.relays ?? 2),
  ]);
  const redis = await testRedis(ctx.stack, 'replygate-faults');
  return {
    dep,
    echo,
    extra,
    redis,
    topics,
    echoGroup,
    eventService,
    eventGroup,
    echoWarnings,
    echoJoins,
    async close() {
      // REPLYGATE_FAULTS_LOG_DIR (run-faults sets .stack/faults-logs/<run> unless given): keep every
      // replica's log lines and the echo service's warnings of the scenario, for a diagnosis.
      const logDir = process.env['REPLYGATE_FAULTS_LOG_DIR'];
      if (logDir !== undefined && logDir !== '') {
        mkdirSync(logDir, { recursive: true });
        for (const m of dep.members) writeFileSync(join(logDir, `${tag}-${m.name}.log`), m.replica.output.join('\n'));
        writeFileSync(
          join(logDir, `${tag}-echo-warnings.log`),
          echoWarnings.map((w) => `${new Date(w.time).toISOString()} ${w.msg}`).join('\n'),
        );
      }
      await dep.stopAll();
      await Promise.allSettled([echo.stop(), ...extra.map((r) => r.stop()), eventService?.stop()]);
      redis.disconnect();
    },
  };
}

/**
 * Run load for `durationMs`; at `faultAtMs` run `fault` (the load keeps going while it runs, and at
 * least `tailMs` after it ends). Returns the records and the wall time.
 */
export async function underLoad(
  r: Rig,
  ctx: ScenarioContext,
  opts: {
    durationMs: number;
    faultAtMs: number;
    tailMs: number;
    path?: (id: string, n: number) => string;
    /** Judge a 200 (default: the echo reply of this request). */
    check?: (id: string, status: number, body: string) => string | undefined;
    /** The scenario's route timeout, when not the mode's (the client waits it + 10 s). */
    routeTimeoutMs?: number;
    /** Load before the judged load, at the same rate (default {@link WARM_UP_MS}; 1 s with --quick). */
    warmupMs?: number;
    /**
     * The warm-up's paths (default `path`). A scenario whose judged counters would also count what
     * the warm-up caused after it ended (late replies of a slow route) warms up on another route.
     */
    warmupPath?: (id: string, n: number) => string;
  },
  fault: () => Promise<void>,
): Promise<{ load: LoadGenerator; durationS: number }> {
  const { rate } = loadFor(ctx);
  const routeTimeoutMs = opts.routeTimeoutMs ?? loadFor(ctx).routeTimeoutMs;
  const loadOptions = {
    ratePerSecond: rate,
    path: opts.path ?? ((id: string) => `/echo/${id}`),
    clientTimeoutMs: routeTimeoutMs + 10_000,
    routeTimeoutMs,
    ...(opts.check ? { check: opts.check } : {}),
  };
  const load = new LoadGenerator(r.dep.targets, loadOptions);
  // A warm-up at the same rate, not judged: the figures are the fault's, not the deployment's first
  // seconds (JIT, connections, the first metadata and group joins). What it saw goes into the facts.
  const warmupMs = opts.warmupMs ?? (ctx.quick ? 1_000 : WARM_UP_MS);
  if (warmupMs > 0) {
    const warm = new LoadGenerator(r.dep.targets, { ...loadOptions, path: opts.warmupPath ?? loadOptions.path });
    // At least warmupMs, then until the deployment keeps up (a cold broker's JIT took ~12 s at
    // 300/s in the first scenario of a run), at most WARM_UP_MAX_MS (quick: half).
    const w0 = Date.now();
    warm.start();
    await sleep(warmupMs);
    const maxMs = ctx.quick ? WARM_UP_MAX_MS / 2 : WARM_UP_MAX_MS;
    let keptUp = keepsUp(warm.records, rate, routeTimeoutMs);
    while (!keptUp && Date.now() - w0 < maxMs) {
      await sleep(250);
      keptUp = keepsUp(warm.records, rate, routeTimeoutMs);
    }
    const ms = Date.now() - w0;
    await warm.stop();
    // A warm-up request's late reply lands after it: a scenario that counts late replies starts here.
    await sleep(1_000);
    r.countersAfterWarmUp = await r.dep.counters();
    const ok = warm.records.filter((x) => x.outcome.kind === 'ok').length;
    r.warmUp = { ms, sent: warm.records.length, ok, echoExpired: r.echo.stats.expired, keptUp };
    ctx.log(
      `  warm-up: ${ok}/${warm.records.length} answered ok in ${ms} ms (not judged)${keptUp ? '' : '; NOT keeping up at its end'}`,
    );
  }
  const t0 = Date.now();
  load.start();
  await sleep(opts.faultAtMs);
  ctx.log(`  fault at ${((Date.now() - t0) / 1000).toFixed(1)} s (${load.sent} sent)`);
  await fault();
  const faultEnded = Date.now();
  ctx.log(`  fault done at ${((faultEnded - t0) / 1000).toFixed(1)} s`);
  const rest = Math.max(opts.durationMs - (Date.now() - t0), opts.tailMs - (Date.now() - faultEnded));
  if (rest > 0) await sleep(rest);
  await load.stop();
  return { load, durationS: (Date.now() - t0) / 1000 };
}

export function summarize(
  id: number,
  title: string,
  ctx: ScenarioContext,
  r: Rig,
  records: RequestRecord[],
  extra: { durationS: number; shed: number; routeTimeoutMs?: number },
): Omit<ScenarioResult, 'duplicatesAbsorbed' | 'lateReplies' | 'checks' | 'facts'> {
  const res = {
    id,
    title,
    mode: ctx.quick ? ('quick' as const) : ('full' as const),
    load: {
      ratePerSecond: loadFor(ctx).rate,
      https: r.dep.members.filter((m) => m.role === 'http').length,
      relays: r.dep.members.filter((m) => m.role === 'relay').length,
      routeTimeoutMs: extra.routeTimeoutMs ?? loadFor(ctx).routeTimeoutMs,
    },
    durationS: Math.round(extra.durationS * 10) / 10,
    sent: records.length,
    ok: 0,
    wrong: 0,
    errors: {} as Record<string, number>,
    dropped: { originDown: 0, originUp: 0 },
    droppedBy: {} as Record<string, number>,
    neverAnswered: { originDown: 0, originUp: 0 },
    retried: 0,
    shed: extra.shed,
  };
  for (const rec of records) {
    if (rec.retries > 0) res.retried++;
    const o = rec.outcome;
    if (o.kind === 'ok') res.ok++;
    else if (o.kind === 'wrong') res.wrong++;
    else if (o.kind === 'status') {
      const k = `${o.status} ${o.code || '-'}`;
      res.errors[k] = (res.errors[k] ?? 0) + 1;
    } else if (o.kind === 'dropped') {
      res.dropped[rec.originDown ? 'originDown' : 'originUp']++;
      const k = `${o.error} ${rec.originDown ?? 'up'}`;
      res.droppedBy[k] = (res.droppedBy[k] ?? 0) + 1;
    } else res.neverAnswered[rec.originDown ? 'originDown' : 'originUp']++;
  }
  return res;
}

export function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

export function countErrors(errors: Record<string, number>, pred: (key: string) => boolean = () => true): number {
  return Object.entries(errors).reduce((s, [k, v]) => (pred(k) ? s + v : s), 0);
}

export function timeoutIds(records: RequestRecord[]): string[] {
  return records.flatMap((rec) =>
    rec.outcome.kind === 'status' && rec.outcome.status === 504 ? [rec.outcome.correlationId] : [],
  );
}

/** The Redis key of the reply to `correlationId` in this rig's deployment. */
export function replyKeyOf(r: Rig, correlationId: string): string {
  return new ReplyKeys(r.dep.names.keyPrefix).reply(correlationId);
}

/** How many of these correlation ids have a reply stored in Redis (waits up to `waitMs` for all). */
export async function storedLater(r: Rig, ids: string[], waitMs: number): Promise<number> {
  if (ids.length === 0) return 0;
  // Once seen, a reply counts: the first ones stored may expire (reply TTL) before the last arrive.
  const missing = new Set(ids.map((id) => replyKeyOf(r, id)));
  await until(
    async () => {
      const keys = [...missing];
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        const seen = await Promise.all(chunk.map((k) => r.redis.exists(k)));
        chunk.forEach((k, j) => {
          if (seen[j] === 1) missing.delete(k);
        });
      }
      return missing.size === 0;
    },
    waitMs,
    250,
  );
  return ids.length - missing.size;
}

/** Redis' run id (changes on every restart), or undefined while it cannot be read. */
export async function redisRunId(redis: RedisClient): Promise<string | undefined> {
  try {
    return /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
  } catch {
    return undefined;
  }
}

export async function scanCount(redis: RedisClient, pattern: string): Promise<number> {
  return (await scanAll(redis, pattern)).length;
}

export function baseChecks(res: ReturnType<typeof summarize>): Check[] {
  return [
    check('no wrong reply', res.wrong === 0, `${res.wrong} answers carried another request's reply`),
    check(
      'nothing hangs while its origin is up',
      res.neverAnswered.originUp === 0,
      `${res.neverAnswered.originUp} never answered`,
    ),
    check(
      'no dropped connection while its origin is up',
      res.dropped.originUp === 0,
      `${res.dropped.originUp} dropped`,
    ),
  ];
}

/** A scenario's result: its summary, the deployment's counters, its facts, the common checks and its own. */
export async function conclude(
  r: Rig,
  res: ReturnType<typeof summarize>,
  facts: Record<string, unknown>,
  checks: Check[],
): Promise<ScenarioResult> {
  const c = await r.dep.counters();
  return {
    ...res,
    duplicatesAbsorbed: c.duplicatesAbsorbed,
    lateReplies: c.lateReplies,
    facts: r.warmUp ? { warmUp: r.warmUp, ...facts } : facts,
    checks: [...baseChecks(res), ...checks],
  };
}

/** Wait (up to 60 s) until every live http replica answers /readyz with 200; else log what they said. */
export async function allHttpReady(r: Rig, log?: (line: string) => void): Promise<boolean> {
  let last: string[] = [];
  const ok = await until(
    async () => {
      const all = await Promise.all(r.dep.live('http').map((m) => httpGet(m.replica.port, '/readyz')));
      last = all.map((x, i) => `${r.dep.live('http')[i]?.name ?? '?'} ${x.status} ${x.body.slice(0, 300)}`);
      return all.every((x) => x.status === 200);
    },
    60_000,
    100,
  );
  if (!ok) log?.(`  not ready after 60 s: ${last.join(' | ')}`);
  return ok;
}

/** The result of a scenario that could not run here. */
export function skipped(id: number, title: string, ctx: ScenarioContext, why: string): ScenarioResult {
  return {
    id,
    title,
    mode: ctx.quick ? 'quick' : 'full',
    load: { ratePerSecond: 0, https: 0, relays: 0, routeTimeoutMs: 0 },
    durationS: 0,
    sent: 0,
    ok: 0,
    wrong: 0,
    errors: {},
    dropped: { originDown: 0, originUp: 0 },
    droppedBy: {},
    neverAnswered: { originDown: 0, originUp: 0 },
    retried: 0,
    shed: 0,
    duplicatesAbsorbed: 0,
    lateReplies: 0,
    checks: [],
    facts: {},
    skipped: why,
  };
}

/** The responders' Kafka TLS/SASL settings: the environment's, for a broker named by env. */
function connectionOf(ctx: ScenarioContext): { connection?: KafkaConnectionSettings } {
  const connection = stackConnection(ctx.stack);
  return connection === undefined ? {} : { connection };
}

/**
 * Watches this process' event-loop delay from now on (the load, the echo service and the harness
 * share it: a starved event loop delays answers by itself, and the figures should say so).
 */
export function watchEventLoop(): IntervalHistogram {
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  return loop;
}

/** How busy the machine was: the harness' event-loop delay during the load, and the load average. */
export function machineFacts(loop: IntervalHistogram): Record<string, number> {
  loop.disable();
  return {
    eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
    eventLoopDelayMaxMs: Math.round(loop.max / 1e6),
    loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
  };
}

/** `[second from the fault, sent, errors]` for every second that had errors (when the request was sent). */
export function errorsPerSecond(records: RequestRecord[], from: number): [number, number, number][] {
  const by = new Map<number, [number, number]>();
  for (const x of records) {
    const s = Math.floor((x.sentAt - from) / 1000);
    const e = by.get(s) ?? [0, 0];
    e[0]++;
    if (x.outcome.kind !== 'ok') e[1]++;
    by.set(s, e);
  }
  return [...by.entries()]
    .filter(([, [, err]]) => err > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([s, [n, err]]) => [s, n, err]);
}

/** Of the requests sent in the last 3 s of the load, how many were answered 200 (`ok` of `of`). */
export function lastThreeSeconds(records: RequestRecord[]): { ok: number; of: number } {
  const sorted = [...records].sort((a, b) => a.sentAt - b.sentAt);
  const tailStart = (sorted.at(-1)?.sentAt ?? 0) - 3000;
  const tail = sorted.filter((x) => x.sentAt >= tailStart);
  return { ok: tail.filter((x) => x.outcome.kind === 'ok').length, of: tail.length };
}

/** Of the requests that ended before `at` (the fault), how many were answered 200 (`ok` of `of`). */
export function answeredBefore(records: RequestRecord[], at: number): { ok: number; of: number } {
  const before = records.filter((x) => x.endedAt < at);
  return { ok: before.filter((x) => x.outcome.kind === 'ok').length, of: before.length };
}

/**
 * The load's two ends as facts (`lastThreeSecondsOk`, `answeredBeforeTheFault`, as `ok/of`): the
 * requests sent in its last 3 s, and those that ended before the fault at `faultAt`.
 */
export function endsOfTheLoad(
  records: RequestRecord[],
  faultAt: number,
  facts: Record<string, unknown>,
): { tail: { ok: number; of: number }; before: { ok: number; of: number } } {
  const tail = lastThreeSeconds(records);
  facts['lastThreeSecondsOk'] = `${tail.ok}/${tail.of}`;
  const before = answeredBefore(records, faultAt);
  facts['answeredBeforeTheFault'] = `${before.ok}/${before.of}`;
  return { tail, before };
}

/** The check (named `name`) that the requests which ended before the fault were all answered 200. */
export function keptUp(before: { ok: number; of: number }, name: string): Check {
  return check(name, before.of > 0 && before.ok === before.of, `${before.ok}/${before.of}`);
}

/** The check that the requests of the last 3 s of the load were all answered 200. */
export function recovered(tail: { ok: number; of: number }): Check {
  return check('recovered (last 3 s all answered)', tail.of > 0 && tail.ok === tail.of, `${tail.ok}/${tail.of}`);
}

/** The check that no request was left without an answer (whether its origin was up or down). */
export function nothingNeverAnswered(res: ReturnType<typeof summarize>): Check {
  const never = res.neverAnswered.originDown + res.neverAnswered.originUp;
  return check('nothing never answered', never === 0, `${never} never answered`);
}

/** The check that every error was a 503 or a 504. */
export function only503or504(res: ReturnType<typeof summarize>): Check {
  return check(
    'errors are 503 or 504 only',
    countErrors(res.errors, (k) => !/^50[34]/.test(k)) === 0,
    JSON.stringify(res.errors),
  );
}
