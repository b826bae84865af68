import { testKafka } from '../../test/support/gateway-fixture';
import { httpGet } from './deployment';
import type { RequestRecord } from './load-generator';
import { replyArrivals } from './reply-arrivals';
import { CLUSTER_SCENARIOS } from './cluster-scenarios';
import { RELAY_SCENARIOS } from './relay-scenarios';
import { EVENT_SCENARIOS } from './event-scenarios';
import { REDIS_SHAPE_SCENARIOS } from './redis-scenarios';
import {
  allHttpReady,
  check,
  conclude,
  countErrors,
  lastThreeSeconds,
  loadFor,
  only503or504,
  redisRunId,
  rig,
  scanCount,
  skipped,
  sleep,
  storedLater,
  summarize,
  timeoutIds,
  baseChecks,
  underLoad,
  until,
  type Check,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario-kit';

export type { Check, Scenario, ScenarioContext, ScenarioResult };

/* ---------------------------------------------------------------------------------------------- */

const rollingRestart: Scenario = {
  id: 2,
  title: 'rolling restart (SIGTERM, one at a time) of every http replica and relay',
  inTestSuite: true,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    const r = await rig(ctx, 'rolling', { routeTimeoutMs });
    try {
      const exitCodes: (number | null)[] = [];
      const { load, durationS } = await underLoad(
        r,
        ctx,
        {
          durationMs: ctx.quick ? 6_000 : 30_000,
          faultAtMs: ctx.quick ? 2_000 : 5_000,
          tailMs: ctx.quick ? 2_000 : 5_000,
        },
        async () => {
          for (const role of ['http', 'relay'] as const) {
            for (const old of r.dep.live(role)) {
              exitCodes.push(await r.dep.stop(old));
              const fresh = await r.dep.add(role);
              ctx.log(`    ${old.name} stopped (exit ${String(exitCodes.at(-1))}), ${fresh.name} ready`);
              if (!ctx.quick) await sleep(2_000);
            }
          }
        },
      );
      const res = summarize(2, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      const replaced = r.dep.members.filter((m) => m.gone).length;
      return conclude(r, res, { exitCodes, replaced }, [
        check(
          'fault took effect: every http replica and relay was stopped and replaced under load',
          replaced === 4 && exitCodes.length === 4 && res.sent > 0,
          `${replaced} replaced, ${res.sent} requests sent`,
        ),
        check('zero timeouts', countErrors(res.errors, (k) => k.startsWith('504')) === 0, JSON.stringify(res.errors)),
        check('no errors at all (refusals are retried)', countErrors(res.errors) === 0, JSON.stringify(res.errors)),
        check(
          'every replica exited 0 on SIGTERM',
          exitCodes.every((x) => x === 0),
          JSON.stringify(exitCodes),
        ),
      ]);
    } finally {
      await r.close();
    }
  },
};

const httpKill: Scenario = {
  id: 3,
  title: 'http replica SIGKILLed (orphaned replies expire by TTL)',
  inTestSuite: true,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    const ttlMs = 3000;
    const r = await rig(ctx, 'httpkill', { https: 3, routeTimeoutMs, env: { REPLYGATE_REPLY_TTL_MS: String(ttlMs) } });
    try {
      const facts: Record<string, unknown> = { replyTtlMs: ttlMs };
      let deadPattern = '';
      let killedAt = 0;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        { durationMs: ctx.quick ? 7_000 : 20_000, faultAtMs: ctx.quick ? 3_000 : 7_000, tailMs: 3_000 },
        async () => {
          const victim = r.dep.live('http')[0]!;
          deadPattern = `${r.dep.names.keyPrefix}reply:${victim.replica.instanceId}.*`;
          await r.dep.kill(victim);
          killedAt = Date.now();
          await sleep(500);
          facts['keysOfDeadReplicaJustAfterKill'] = await scanCount(r.redis, deadPattern);
        },
      );
      const res = summarize(3, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      const wait = killedAt + ttlMs + 1500 - Date.now();
      if (wait > 0) await sleep(wait);
      const left = await scanCount(r.redis, deadPattern);
      facts['orphanedKeysAfterTtl'] = left;
      const justAfter = facts['keysOfDeadReplicaJustAfterKill'] as number;
      return conclude(r, res, facts, [
        check(
          'fault took effect: the killed replica had replies in Redis just after the kill',
          justAfter > 0,
          `${justAfter} keys ${deadPattern}`,
        ),
        check(
          'no errors (only the dead origin drops connections)',
          countErrors(res.errors) === 0,
          JSON.stringify(res.errors),
        ),
        check(
          'orphaned replies expired by TTL',
          left === 0,
          `${left} keys ${deadPattern} left ${ttlMs + 1500} ms after the kill`,
        ),
      ]);
    } finally {
      await r.close();
    }
  },
};

/**
 * Redis away under load. `restart`: the server restarts and loses its data (every replica's
 * connections drop for seconds, the relay rewinds), or, where the stack cannot restart it, every
 * client connection is killed. `kill`: only the connections are killed (a gap of milliseconds, in
 * which a reply written while a subscriber is reconnecting has no notification: only the resync
 * after the reconnect finds it before the deadline read).
 */
const redisOutage = (id: number, title: string, mode: 'restart' | 'kill', inTestSuite: boolean): Scenario => ({
  id,
  title,
  inTestSuite,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    const r = await rig(ctx, 'redis', { routeTimeoutMs });
    try {
      const facts: Record<string, unknown> = {};
      let runIdBefore: string | undefined;
      let runIdAfter: string | undefined;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        {
          durationMs: ctx.quick ? 8_000 : 20_000,
          faultAtMs: ctx.quick ? 3_000 : 7_000,
          tailMs: ctx.quick ? 4_000 : 6_000,
        },
        async () => {
          const t = Date.now();
          runIdBefore = await redisRunId(r.redis);
          if (mode === 'restart' && ctx.stack.restart) {
            facts['how'] = 'stack.restart(redis)';
            await ctx.stack.restart('redis');
          } else {
            facts['how'] = 'CLIENT KILL TYPE pubsub + normal';
            await r.redis.client('KILL', 'TYPE', 'pubsub');
            await r.redis.client('KILL', 'TYPE', 'normal');
          }
          facts['outageCommandMs'] = Date.now() - t;
          const back = await allHttpReady(r, ctx.log);
          facts['allReadyAgainMs'] = back ? Date.now() - t : null;
          runIdAfter = await redisRunId(r.redis);
        },
      );
      const res = summarize(id, title, ctx, r, load.records, { durationS, shed: load.shed });
      const restarted = facts['how'] === 'stack.restart(redis)';
      facts['runIdChanged'] = runIdBefore !== undefined && runIdAfter !== undefined && runIdBefore !== runIdAfter;
      // Recovered: the requests of the last 3 s were all answered 200.
      const tail = lastThreeSeconds(load.records);
      facts['lastThreeSecondsOk'] = `${tail.ok}/${tail.of}`;
      // A 200 at the deadline whose reply was on the reply topic well before it is a reply found
      // only by the last read: its notification was lost and the resync after the reconnect did not
      // find it either (the deadline read masks that).
      const arrivals = await replyArrivals(testKafka(ctx.stack), r.dep.names.replyTopic);
      const masked = load.records.filter(
        (x) =>
          x.outcome.kind === 'ok' &&
          x.endedAt - x.sentAt >= routeTimeoutMs &&
          (arrivals.get(x.outcome.correlationId) ?? Infinity) < x.sentAt + routeTimeoutMs - 1000,
      );
      const atDeadline = masked.length;
      facts['okOnlyAtTheDeadline'] = atDeadline;
      facts['okOnlyAtTheDeadlineSample'] = masked.slice(0, 5).map((x) => {
        const cid = x.outcome.kind === 'ok' ? x.outcome.correlationId : '';
        return `${cid} reply on topic +${(arrivals.get(cid) ?? 0) - x.sentAt} ms, answered +${x.endedAt - x.sentAt} ms`;
      });
      const notReady = r.dep.readyLog.filter((e) => e.status !== 200).length;
      const unavailable = load.records.filter((x) => x.outcome.kind === 'status' && x.outcome.status === 503);
      const withRetryAfter = unavailable.filter(
        (x) => x.outcome.kind === 'status' && x.outcome.retryAfter !== undefined,
      ).length;
      facts['readyzTurned503'] = notReady;
      facts['503WithRetryAfter'] = `${withRetryAfter}/${unavailable.length}`;
      const timeouts = timeoutIds(load.records);
      facts['timeouts'] = timeouts.length;
      // A 504 is a defect only if its reply was on the reply topic in time (a margin before the
      // deadline for the relay's write); replies the service sent late may 504. A rewind that
      // queued fresh replies behind old ones made such 504s (issue 10, item 3).
      const inTime = load.records.filter(
        (x) =>
          x.outcome.kind === 'status' &&
          x.outcome.status === 504 &&
          (arrivals.get(x.outcome.correlationId) ?? Infinity) < x.sentAt + routeTimeoutMs - 250,
      );
      facts['504sWhoseReplyArrivedInTime'] = inTime.length;
      return conclude(r, res, facts, [
        check(
          restarted
            ? 'fault took effect: Redis restarted and lost its data (run_id changed)'
            : 'fault took effect: every client connection was killed',
          restarted ? facts['runIdChanged'] === true : true,
          `run_id ${String(runIdBefore)} → ${String(runIdAfter)}`,
        ),
        check(
          'fault hurt: requests were refused with 503 while Redis was away',
          unavailable.length > 0 || notReady > 0,
          `${unavailable.length} × 503, /readyz turned 503 ${notReady} times`,
        ),
        check('every http replica ready again', facts['allReadyAgainMs'] !== null, String(facts['allReadyAgainMs'])),
        check('recovered: the last 3 s all answered 200', tail.of > 0 && tail.ok === tail.of, `${tail.ok}/${tail.of}`),
        check(
          'no reply found only by the deadline read (notifications resynced after the reconnect)',
          atDeadline === 0,
          `${atDeadline} answered 200 at the deadline`,
        ),
        check(
          'no 504 whose reply arrived before its deadline',
          inTime.length === 0,
          `${inTime.length} of ${timeouts.length} × 504 had their reply on the topic in time`,
        ),
        check(
          'every 503 carries Retry-After',
          withRetryAfter === unavailable.length,
          `${withRetryAfter}/${unavailable.length}`,
        ),
        check(
          'only 503 errors',
          countErrors(res.errors, (k) => !k.startsWith('503')) === 0,
          JSON.stringify(res.errors),
        ),
      ]);
    } finally {
      await r.close();
    }
  },
});

const kafkaRestart: Scenario = {
  id: 5,
  title: 'Kafka broker restarted',
  inTestSuite: false,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    if (!ctx.stack.restart) {
      return skipped(
        5,
        this.title,
        ctx,
        'the stack cannot restart Kafka (KAFKA_BROKERS/REDIS_URL given or containers)',
      );
    }
    const r = await rig(ctx, 'kafka', { routeTimeoutMs });
    try {
      const facts: Record<string, unknown> = {};
      let restartedAt = 0;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        {
          durationMs: ctx.quick ? 10_000 : 30_000,
          faultAtMs: ctx.quick ? 3_000 : 7_000,
          tailMs: ctx.quick ? 8_000 : 15_000,
        },
        async () => {
          const t = Date.now();
          await ctx.stack.restart!('kafka');
          restartedAt = Date.now();
          facts['restartCommandMs'] = restartedAt - t;
          const back = await allHttpReady(r);
          facts['allReadyAfterRestartMs'] = back ? Date.now() - restartedAt : null;
        },
      );
      const res = summarize(5, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      facts['readyzTurned503'] = r.dep.readyLog.filter((e) => e.status !== 200).length;
      const sorted = [...load.records].sort((a, b) => a.sentAt - b.sentAt);
      const tailStart = sorted.at(-1)!.sentAt - 3000;
      const tail = sorted.filter((x) => x.sentAt >= tailStart);
      const tailOk = tail.filter((x) => x.outcome.kind === 'ok').length;
      facts['lastThreeSecondsOk'] = `${tailOk}/${tail.length}`;
      const firstOkAfter = sorted.find((x) => x.sentAt >= restartedAt && x.outcome.kind === 'ok');
      facts['firstOkAfterRestartMs'] = firstOkAfter ? firstOkAfter.sentAt - restartedAt : null;
      return conclude(r, res, facts, [
        check('recovered by itself (last 3 s all answered)', tailOk === tail.length, `${tailOk}/${tail.length}`),
        only503or504(res),
      ]);
    } finally {
      await r.close();
    }
  },
};

const lateService: Scenario = {
  id: 6,
  title: 'service that never answers / answers late',
  inTestSuite: true,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    const r = await rig(ctx, 'late', { routeTimeoutMs, lateRoutes: true });
    try {
      const kinds = ['echo', 'echo', 'silent', 'late'] as const;
      const kindOf = (n: number) => kinds[n % kinds.length]!;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        {
          durationMs: ctx.quick ? 5_000 : 20_000,
          faultAtMs: 0,
          tailMs: 0,
          path: (id, n) =>
            kindOf(n) === 'echo'
              ? `/echo/${id}`
              : kindOf(n) === 'silent'
                ? `/silent/${id}`
                : `/late/${id}?delayMs=1500`,
          // The slow route's replies to warm-up requests would land in the judged window and be
          // counted late without being among its requests: the warm-up uses the echo route only.
          warmupPath: (id) => `/echo/${id}`,
        },
        async () => undefined,
      );
      const res = summarize(6, this.title, ctx, r, load.records, { durationS, shed: load.shed, routeTimeoutMs: 1000 });
      const byKind = (k: string) => load.records.filter((x) => kindOf(Number(x.id.split('-').at(-1))) === k);
      const echoOk = byKind('echo').filter((x) => x.outcome.kind === 'ok').length;
      const is504 = (x: RequestRecord) => x.outcome.kind === 'status' && x.outcome.status === 504;
      const silent = byKind('silent');
      const late = byKind('late');
      const silentMs = silent
        .filter(is504)
        .map((x) => x.endedAt - x.sentAt)
        .sort((a, b) => a - b);
      // Let the slow service's last replies land and be counted: every late reply stored wakes its
      // origin, which finds nothing pending and counts it late (the count follows the SET).
      await sleep(2_000);
      const lateIds = late.flatMap((x) => (x.outcome.kind === 'status' ? [x.outcome.correlationId] : []));
      const lateStored = await storedLater(r, lateIds, 0);
      // Late replies since the warm-up (whose own 504s' replies, on a cold deployment, land after it).
      const before = r.countersAfterWarmUp?.lateReplies ?? 0;
      let c = await r.dep.counters();
      await until(
        async () => {
          c = await r.dep.counters();
          return c.lateReplies - before >= lateStored;
        },
        10_000,
        250,
      );
      const slow = r.extra[0]!.stats;
      const facts = {
        echoOk: `${echoOk}/${byKind('echo').length}`,
        silent504: `${silent.filter(is504).length}/${silent.length}`,
        late504: `${late.filter(is504).length}/${late.length}`,
        silent504LatencyMs: { p50: silentMs[Math.floor(silentMs.length / 2)] ?? null, max: silentMs.at(-1) ?? null },
        lateRepliesStoredInRedis: lateStored,
        slowResponder: slow,
      };
      return {
        ...res,
        duplicatesAbsorbed: c.duplicatesAbsorbed,
        lateReplies: c.lateReplies - before,
        facts,
        checks: [
          ...baseChecks(res),
          check('every echo request answered', echoOk > 0 && echoOk === byKind('echo').length, facts.echoOk),
          check(
            'silent and late requests answer 504',
            silent.length > 0 && late.length > 0 && silent.every(is504) && late.every(is504),
            `${facts.silent504} ${facts.late504}`,
          ),
          check(
            '504 at the deadline (p50 within 1000..1500 ms)',
            (facts.silent504LatencyMs.p50 ?? 0) >= 1000 && (facts.silent504LatencyMs.p50 ?? Infinity) <= 1500,
            JSON.stringify(facts.silent504LatencyMs),
          ),
          check(
            'every late reply stored is counted as late, once',
            lateStored > 0 && c.lateReplies - before === lateStored,
            `${c.lateReplies - before} counted, ${lateStored} stored (${before} before, from the warm-up)`,
          ),
          check('responder skipped expired requests', slow.expired > 0, JSON.stringify(slow)),
        ],
      };
    } finally {
      await r.close();
    }
  },
};

const flappingBroker: Scenario = {
  id: 7,
  title: 'flapping broker (Kafka stopped 3 s, started, stopped 2 s, started)',
  inTestSuite: false,
  async run(ctx) {
    const { routeTimeoutMs } = loadFor(ctx);
    const control = ctx.stack.control;
    if (control === undefined) {
      return skipped(7, this.title, ctx, 'the stack cannot stop and start Kafka (no REPLYGATE_STACK_DIR)');
    }
    const r = await rig(ctx, 'flap', { routeTimeoutMs });
    try {
      const facts: Record<string, unknown> = {};
      let recoveredAt = 0;
      let flapStartedAt = 0;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        // The tail outlasts the echo group's rebalance after the broker is back (its members that
        // crashed never left, so the group waits out their session timeout, 30 s in kafkajs).
        { durationMs: 20_000, faultAtMs: ctx.quick ? 3_000 : 5_000, tailMs: 50_000 },
        async () => {
          const t = Date.now();
          flapStartedAt = t;
          const steps: string[] = [];
          const step = (what: string) => steps.push(`${what} +${Date.now() - t}ms`);
          await control('stop', 'kafka');
          step('stopped');
          await sleep(3_000);
          await control('start', 'kafka');
          step('started');
          await control('stop', 'kafka');
          step('stopped');
          await sleep(2_000);
          await control('start', 'kafka');
          step('started');
          facts['flapSteps'] = steps;
          facts['flapMs'] = Date.now() - t;
          const back = await until(
            async () => {
              const all = await Promise.all(
                [...r.dep.live('http'), ...r.dep.live('relay')].map((m) => httpGet(m.replica.port, '/readyz')),
              );
              return all.every((x) => x.status === 200);
            },
            180_000,
            250,
          );
          recoveredAt = Date.now();
          facts['allReadyAfterFlapMs'] = back ? recoveredAt - t : null;
        },
      );
      const res = summarize(7, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      // Where a request was left unanswered, when (relative to the flap) and on which replica.
      facts['neverAnsweredSample'] = load.records
        .filter((x) => x.outcome.kind === 'never')
        .slice(0, 10)
        .map((x) => `sent +${x.sentAt - flapStartedAt}ms: ${(x.attempts ?? []).join(', ')}`);
      const restarts = await Promise.all(
        r.dep.live('relay').map(async (m) => {
          const page = (await httpGet(m.replica.port, '/metrics')).body;
          return Number(/^replygate_consumer_restarts_total\{component="relay"\} (\d+)/m.exec(page)?.[1] ?? 0);
        }),
      );
      facts['relayConsumerRestarts'] = restarts;
      facts['readyzTurned503'] = r.dep.readyLog.filter((e) => e.status !== 200).length;
      const failed = load.records.filter((x) => x.outcome.kind !== 'ok').length;
      facts['failedDuringOutage'] = failed;
      // Recovered: every replica ready and the first request answered after that (the echo group
      // rejoined); from one second later on, every request must be answered.
      const firstOk = load.records
        .filter((x) => recoveredAt > 0 && x.sentAt >= recoveredAt && x.outcome.kind === 'ok')
        .reduce((min, x) => Math.min(min, x.sentAt), Infinity);
      facts['firstOkAfterReadyMs'] = Number.isFinite(firstOk) ? firstOk - recoveredAt : null;
      const after = load.records.filter((x) => Number.isFinite(firstOk) && x.sentAt >= firstOk + 1_000);
      const afterOk = after.filter((x) => x.outcome.kind === 'ok').length;
      facts['okAfterRecovery'] = `${afterOk}/${after.length}`;
      return conclude(r, res, facts, [
        check(
          'the fault happened (requests failed or a relay consumer was rebuilt)',
          failed > 0 || restarts.some((n) => n > 0),
          `${failed} failed, relay consumer restarts ${JSON.stringify(restarts)}`,
        ),
        check('every replica ready again', facts['allReadyAfterFlapMs'] !== null, String(facts['allReadyAfterFlapMs'])),
        check(
          'every request after recovery answered 200',
          after.length > 0 && afterOk === after.length,
          String(facts['okAfterRecovery']),
        ),
      ]);
    } finally {
      await r.close();
    }
  },
};

/** Every scenario, in issue order. */
export const SCENARIOS: readonly Scenario[] = [
  // 1, 12, 13: relays SIGKILLed (bench/faults/relay-scenarios.ts).
  RELAY_SCENARIOS.redundant,
  rollingRestart,
  httpKill,
  redisOutage(4, 'Redis restarted (or every client connection killed)', 'restart', true),
  kafkaRestart,
  lateService,
  flappingBroker,
  // Not in the quick test suite yet: judged only on a quiet machine so far (see docs/RELIABILITY.md).
  redisOutage(8, 'every Redis client connection killed (a gap of milliseconds)', 'kill', false),
  // 9-11: on a private three-broker stack (ScenarioContext.cluster).
  ...CLUSTER_SCENARIOS,
  RELAY_SCENARIOS.singleGroup,
  RELAY_SCENARIOS.twoAtOnce,
  // 14-16: on a private Redis Cluster / Sentinel set (ScenarioContext.redisStack).
  ...REDIS_SHAPE_SCENARIOS,
  // 17-18: the event-await route (issue 15) under a relay SIGKILL and a Redis restart.
  EVENT_SCENARIOS.relayKill(17, 1),
  EVENT_SCENARIOS.redisRestart,
  EVENT_SCENARIOS.relayKill(19, 2),
];
