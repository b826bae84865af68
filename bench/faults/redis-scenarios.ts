import { loadavg } from 'node:os';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { keySlot } from '../../src/redis/key-slot';
import { testKafka } from '../../test/support/gateway-fixture';
import { dataNodes } from '../../test/support/test-redis';
import type { RequestRecord } from './load-generator';
import type { RedisFaultShape, RedisShapeStack } from './redis-stack';
import { topicLandings } from './reply-arrivals';
import {
  allHttpReady,
  check,
  conclude,
  countErrors,
  loadFor,
  rig,
  skipped,
  sleep,
  storedLater,
  summarize,
  underLoad,
  until,
  type Check,
  type Rig,
  type Scenario,
  type ScenarioContext,
} from './scenario-kit';

/*
 * Scenarios 14-16 run on a private Redis Cluster (three masters, three replicas,
 * cluster-node-timeout 2 s) or Sentinel set (a primary, two replicas, three sentinels, quorum 2,
 * down-after-milliseconds 2 s) with one Kafka broker, from scripts/stack.sh with
 * STACK_REDIS_SHAPE (ScenarioContext.redisStack), under the same open-loop load as the others.
 * The gateways get the shape's settings (REDIS_CLUSTER_NODES / REDIS_SENTINELS), as an operator
 * would give them.
 */

/** The common shape of a Redis-shape scenario's run. */
interface RedisRun {
  rs: RedisShapeStack;
  cctx: ScenarioContext;
  r: Rig;
  loop: IntervalHistogram;
}

async function redisRig(ctx: ScenarioContext, shape: RedisFaultShape, tag: string): Promise<RedisRun | undefined> {
  if (ctx.redisStack === undefined) return undefined;
  const rs = await ctx.redisStack(shape);
  await rs.healthy(ctx.log);
  const cctx: ScenarioContext = { ...ctx, stack: rs.stack };
  const r = await rig(cctx, tag, {
    routeTimeoutMs: loadFor(ctx).routeTimeoutMs,
    // Replies stored late stay until the harness has looked for them.
    env: { REPLYGATE_REPLY_TTL_MS: '300000' },
    echoConcurrency: 8,
  });
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  return { rs, cctx, r, loop };
}

function machineFacts(loop: IntervalHistogram): Record<string, number> {
  loop.disable();
  return {
    eventLoopDelayP99Ms: Math.round(loop.percentile(99) / 1e6),
    eventLoopDelayMaxMs: Math.round(loop.max / 1e6),
    loadAverage1m: Math.round(loadavg()[0]! * 10) / 10,
  };
}

/** This deployment's reply keys on each data node (by port), counted by SCAN. */
async function replyKeysByPort(r: Rig): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const node of dataNodes(r.redis)) {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${r.dep.names.keyPrefix}reply:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    out.set((node as Redis).options.port ?? 0, keys);
  }
  return out;
}

const percentile = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/**
 * The checks every Redis-shape scenario makes after its load, and its facts: no reply lost (each
 * 503/504 whose reply reached the reply topic has it in Redis afterwards; the others never had a
 * reply: refused before publishing, or dropped by the service as expired), errors 503/504 only,
 * no 200 found only by the deadline read, the error window, recovery.
 */
async function judgeRedis(
  r: Rig,
  ctx: ScenarioContext,
  res: ReturnType<typeof summarize>,
  records: RequestRecord[],
  faultAt: number,
  recoveredAt: number | undefined,
  facts: Record<string, unknown>,
  /** Redis could not take writes from the fault until `recoveredAt` (a failover; not a resharding). */
  outage: boolean,
): Promise<Check[]> {
  const { routeTimeoutMs } = loadFor(ctx);
  const kafka = testKafka(ctx.stack);
  const replies = await topicLandings(kafka, r.dep.names.replyTopic);
  const requests = await topicLandings(kafka, r.topics['echo']!);
  const errors = records.filter((x) => x.outcome.kind === 'status');
  const cid = (x: RequestRecord): string =>
    x.outcome.kind === 'status' || x.outcome.kind === 'ok' ? x.outcome.correlationId : '';
  const withReply = errors.filter((x) => replies.has(cid(x))).map(cid);
  const stored = await storedLater(r, withReply, 60_000);
  const noReplyButPublished = errors.filter((x) => !replies.has(cid(x)) && requests.has(cid(x))).length;
  const neverPublished = errors.filter((x) => !replies.has(cid(x)) && !requests.has(cid(x))).length;
  facts['errorsWithAReplyOnTheTopic'] = withReply.length;
  facts['ofThemStoredInRedisLater'] = stored;
  facts['errorsPublishedWithoutReply'] = noReplyButPublished;
  facts['errorsNeverPublished'] = neverPublished;
  // The error window: from the first failed request's start to the last one's end, from the fault.
  const window = errors.length
    ? {
        firstSentMs: Math.min(...errors.map((x) => x.sentAt)) - faultAt,
        lastEndedMs: Math.max(...errors.map((x) => x.endedAt)) - faultAt,
      }
    : null;
  facts['errorWindowMsFromFault'] = window;
  const perSecond = new Map<number, [number, number]>();
  for (const x of records) {
    const s = Math.floor((x.sentAt - faultAt) / 1000);
    const e = perSecond.get(s) ?? [0, 0];
    e[0]++;
    if (x.outcome.kind !== 'ok') e[1]++;
    perSecond.set(s, e);
  }
  facts['errorsPerSecondFromFault'] = [...perSecond.entries()]
    .filter(([, [, e]]) => e > 0)
    .sort((a, b) => a[0] - b[0])
    .map(([s, [n, e]]) => [s, n, e]);
  // A 200 at the deadline whose reply was on the topic a second before: found only by the last
  // read, i.e. the wake missed it (not re-subscribed where the key now lives, no re-read after the change).
  const atDeadline = records.filter(
    (x) =>
      x.outcome.kind === 'ok' &&
      x.endedAt - x.sentAt >= routeTimeoutMs &&
      (replies.get(cid(x))?.timestamp ?? Infinity) < x.sentAt + routeTimeoutMs - 1000,
  );
  facts['okOnlyAtTheDeadline'] = atDeadline.length;
  // While Redis could not take writes (from the fault until the shape was ready again, plus a
  // second for the relays' retry), a reply on the topic is not yet in Redis: one stored just before
  // the deadline is found by the deadline read legitimately. Outside that window it is a missed wake.
  const landed = (x: RequestRecord): number => replies.get(cid(x))?.timestamp ?? Infinity;
  const outageEnd = (recoveredAt ?? Infinity) + 1000;
  const missedWake = outage ? atDeadline.filter((x) => landed(x) < faultAt || landed(x) > outageEnd) : atDeadline;
  facts['okOnlyAtTheDeadlineReplyLandedMsFromFault'] = atDeadline.length
    ? [Math.min(...atDeadline.map(landed)) - faultAt, Math.max(...atDeadline.map(landed)) - faultAt]
    : null;
  facts['okOnlyAtTheDeadlineOutsideTheOutage'] = missedWake.length;
  const ok = (from: number, to: number) =>
    records
      .filter((x) => x.outcome.kind === 'ok' && x.sentAt >= from && x.sentAt < to)
      .map((x) => x.endedAt - x.sentAt);
  const before = ok(0, faultAt);
  const after = recoveredAt === undefined ? [] : ok(recoveredAt + 2000, Infinity);
  facts['okLatencyMs'] = {
    beforeFault: { p50: percentile(before, 50), p99: percentile(before, 99) },
    fromTwoSecondsAfterRecovery: { p50: percentile(after, 50), p99: percentile(after, 99), n: after.length },
  };
  const sorted = [...records].sort((a, b) => a.sentAt - b.sentAt);
  const tailStart = (sorted.at(-1)?.sentAt ?? 0) - 3000;
  const tail = sorted.filter((x) => x.sentAt >= tailStart);
  const tailOk = tail.filter((x) => x.outcome.kind === 'ok').length;
  facts['lastThreeSecondsOk'] = `${tailOk}/${tail.length}`;
  const beforeAll = records.filter((x) => x.endedAt < faultAt);
  const beforeOk = beforeAll.filter((x) => x.outcome.kind === 'ok').length;
  facts['answeredBeforeTheFault'] = `${beforeOk}/${beforeAll.length}`;
  const never = res.neverAnswered.originDown + res.neverAnswered.originUp;
  return [
    check(
      'the deployment kept up with the load before the fault',
      beforeAll.length > 0 && beforeOk === beforeAll.length,
      `${beforeOk}/${beforeAll.length}`,
    ),
    check('nothing never answered', never === 0, `${never} never answered`),
    check(
      'no reply lost: every 503/504 whose reply reached the reply topic has it in Redis afterwards (stored, or rewritten by the relays after the failover)',
      stored === withReply.length,
      `${stored}/${withReply.length} stored`,
    ),
    check(
      'every other error had no reply to lose: refused before publishing, or dropped by the service as expired',
      noReplyButPublished <= r.echo.stats.expired,
      `${neverPublished} never published, ${noReplyButPublished} published without a reply, ${r.echo.stats.expired} dropped as expired by the echo service`,
    ),
    check(
      'errors are 503 or 504 only',
      countErrors(res.errors, (k) => !/^50[34]/.test(k)) === 0,
      JSON.stringify(res.errors),
    ),
    check(
      'no 200 found only by the deadline read whose reply landed while Redis took writes (the wake followed the change)',
      missedWake.length === 0,
      `${missedWake.length} such; ${atDeadline.length} answered 200 at the deadline with their reply on the topic ≥ 1 s before, ` +
        `${atDeadline.length - missedWake.length} of them landed during the outage (stored only once Redis took writes again)`,
    ),
    check('recovered (last 3 s all answered)', tail.length > 0 && tailOk === tail.length, `${tailOk}/${tail.length}`),
  ];
}

/** Scenario 14: the cluster master holding most of this deployment's reply keys SIGKILLed. */
const clusterMasterKill: Scenario = {
  id: 14,
  title: 'Redis Cluster: the master holding the most reply keys SIGKILLed (its replica promoted)',
  inTestSuite: false,
  redis: 'cluster',
  async run(ctx) {
    const set = await redisRig(ctx, 'cluster', 'rcmkill');
    if (set === undefined) return skipped(14, this.title, ctx, 'no Redis Cluster stack (the runner gives none)');
    const { rs, cctx, r, loop } = set;
    let victim: string | undefined;
    try {
      const facts: Record<string, unknown> = {};
      const faultChecks: Check[] = [];
      let killedAt = 0;
      let recoveredAt: number | undefined;
      const { load, durationS } = await underLoad(
        r,
        cctx,
        {
          durationMs: ctx.quick ? 20_000 : 50_000,
          faultAtMs: ctx.quick ? 4_000 : 10_000,
          tailMs: ctx.quick ? 8_000 : 15_000,
        },
        async () => {
          const byPort = await replyKeysByPort(r);
          const [port, keys] = [...byPort.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [0, []];
          const v = { comp: rs.compOf(port), pid: rs.pidOf(rs.compOf(port)) };
          victim = v.comp;
          const before = await rs.clusterNodes();
          const victimLine = before.find((n) => n.port === port);
          const itsReplicas = before.filter(
            (n) => !n.master && n.masterId !== undefined && n.masterId === victimLine?.id,
          );
          facts['victim'] = v.comp;
          facts['victimReplyKeys'] = `${keys.length} of ${[...byPort.values()].reduce((s, k) => s + k.length, 0)}`;
          facts['victimSlots'] = victimLine?.slots ?? [];
          facts['itsReplicas'] = itsReplicas.map((n) => n.comp);
          killedAt = Date.now();
          await rs.kill(v.comp);
          const pidAfter = rs.pidOf(v.comp);
          faultChecks.push(
            check(
              `fault took effect: ${v.comp} (a master with ${keys.length} reply keys) was running and is gone after SIGKILL`,
              v.pid !== undefined && pidAfter === undefined && keys.length > 0,
              `pid ${String(v.pid)} → ${pidAfter === undefined ? 'gone' : String(pidAfter)}`,
            ),
          );
          // Promoted: another live node is master of the victim's first slot, and every node is ok.
          const firstSlot = victimLine?.slots[0]?.[0];
          let promoted: string | undefined;
          const ok = await until(
            async () => {
              try {
                const now = await rs.clusterNodes();
                promoted = now.find(
                  (n) =>
                    n.master &&
                    !n.failed &&
                    n.comp !== v.comp &&
                    n.slots.some(([lo, hi]) => firstSlot !== undefined && lo <= firstSlot && firstSlot <= hi),
                )?.comp;
                return promoted !== undefined && (await rs.clusterOk());
              } catch {
                return false;
              }
            },
            60_000,
            100,
          );
          facts['promoted'] = promoted ?? null;
          facts['promotedAndClusterOkAfterMs'] = ok ? Date.now() - killedAt : null;
          recoveredAt = ok ? Date.now() : undefined;
          faultChecks.push(
            check(
              `fault took effect: a replica of ${v.comp} was promoted to master of its slots and the cluster is ok again`,
              ok && promoted !== undefined && itsReplicas.some((n) => n.comp === promoted),
              `${String(promoted)} after ${String(facts['promotedAndClusterOkAfterMs'])} ms`,
            ),
          );
          const ready = await allHttpReady(r, ctx.log);
          facts['allReadyAfterKillMs'] = ready ? Date.now() - killedAt : null;
        },
      );
      facts['machine'] = machineFacts(loop);
      const res = summarize(14, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      const checks = await judgeRedis(r, cctx, res, load.records, killedAt, recoveredAt, facts, true);
      return await conclude(r, res, facts, [...faultChecks, ...checks]);
    } finally {
      await r.close();
      if (victim !== undefined) ctx.log(`  ${victim} started again (${await rs.start(victim)} ms)`);
    }
  },
};

/** Scenario 15: the Sentinel primary SIGKILLed; the sentinels fail over to a replica. */
const sentinelFailover: Scenario = {
  id: 15,
  title: 'Redis Sentinel: the primary SIGKILLed (the sentinels promote a replica)',
  inTestSuite: false,
  redis: 'sentinel',
  async run(ctx) {
    const set = await redisRig(ctx, 'sentinel', 'rsfail');
    if (set === undefined) return skipped(15, this.title, ctx, 'no Sentinel stack (the runner gives none)');
    const { rs, cctx, r, loop } = set;
    let victim: string | undefined;
    try {
      const facts: Record<string, unknown> = {};
      const faultChecks: Check[] = [];
      let killedAt = 0;
      let recoveredAt: number | undefined;
      const { load, durationS } = await underLoad(
        r,
        cctx,
        {
          durationMs: ctx.quick ? 20_000 : 50_000,
          faultAtMs: ctx.quick ? 4_000 : 10_000,
          tailMs: ctx.quick ? 8_000 : 15_000,
        },
        async () => {
          const primary = await rs.sentinelPrimary();
          if (primary === undefined) throw new Error('no sentinel names a primary');
          const v = { comp: primary.comp, pid: rs.pidOf(primary.comp) };
          victim = primary.comp;
          const keys = [...(await replyKeysByPort(r)).values()].reduce((s, k) => s + k.length, 0);
          facts['victim'] = primary.comp;
          facts['replyKeysOnThePrimary'] = keys;
          killedAt = Date.now();
          await rs.kill(primary.comp);
          const pidAfter = rs.pidOf(primary.comp);
          faultChecks.push(
            check(
              `fault took effect: the primary ${primary.comp} (holding ${keys} reply keys) was running and is gone after SIGKILL`,
              v?.pid !== undefined && pidAfter === undefined && keys > 0,
              `pid ${String(v?.pid)} → ${pidAfter === undefined ? 'gone' : String(pidAfter)}`,
            ),
          );
          let next: string | undefined;
          const failedOver = await until(
            async () => {
              next = (await rs.sentinelPrimary())?.comp;
              return next !== undefined && next !== primary.comp;
            },
            60_000,
            100,
          );
          facts['newPrimary'] = next ?? null;
          facts['sentinelsNamedANewPrimaryAfterMs'] = failedOver ? Date.now() - killedAt : null;
          recoveredAt = failedOver ? Date.now() : undefined;
          faultChecks.push(
            check(
              'fault took effect: the sentinels named a replica the new primary',
              failedOver,
              `${String(next)} after ${String(facts['sentinelsNamedANewPrimaryAfterMs'])} ms`,
            ),
          );
          const ready = await allHttpReady(r, ctx.log);
          facts['allReadyAfterKillMs'] = ready ? Date.now() - killedAt : null;
        },
      );
      facts['machine'] = machineFacts(loop);
      const res = summarize(15, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      const checks = await judgeRedis(r, cctx, res, load.records, killedAt, recoveredAt, facts, true);
      return await conclude(r, res, facts, [...faultChecks, ...checks]);
    } finally {
      await r.close();
      if (victim !== undefined) ctx.log(`  ${victim} started again (${await rs.start(victim)} ms)`);
    }
  },
};

/**
 * Scenario 16: a live resharding (`redis-cli --cluster reshard`) of the slot range of the master
 * holding the most reply keys, to the master holding the fewest, under load.
 */
const resharding: Scenario = {
  id: 16,
  title: 'Redis Cluster: live resharding of a slot range holding reply keys (redis-cli --cluster reshard)',
  inTestSuite: false,
  redis: 'cluster',
  async run(ctx) {
    const set = await redisRig(ctx, 'cluster', 'rcreshard');
    if (set === undefined) return skipped(16, this.title, ctx, 'no Redis Cluster stack (the runner gives none)');
    const { rs, cctx, r, loop } = set;
    try {
      const facts: Record<string, unknown> = {};
      const faultChecks: Check[] = [];
      let startedAt = 0;
      let recoveredAt: number | undefined;
      const { load, durationS } = await underLoad(
        r,
        cctx,
        {
          durationMs: ctx.quick ? 20_000 : 50_000,
          faultAtMs: ctx.quick ? 4_000 : 10_000,
          tailMs: ctx.quick ? 6_000 : 12_000,
        },
        async () => {
          const byPort = await replyKeysByPort(r);
          const masters = (await rs.clusterNodes()).filter((n) => n.master && !n.failed);
          const ranked = masters
            .map((m) => ({ m, keys: byPort.get(m.port) ?? [] }))
            .sort((a, b) => b.keys.length - a.keys.length);
          const from = ranked[0]!;
          const to = ranked.at(-1)!;
          // redis-cli moves the source's slots in ascending order. Reply keys are spread over every
          // slot (no hash tag), so its first 2000 slots (1000 quick) of ~5461 hold some of them: at
          // 80 req/s a few dozen, with keys written into them all along the migration.
          const own = from.m.slots.flatMap(([lo, hi]) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
          const count = Math.min(own.length, ctx.quick ? 1000 : 2000);
          const moving = new Set(own.slice(0, count));
          const replySlots = [...new Set(from.keys.map(keySlot))].filter((x) => moving.has(x));
          facts['from'] = from.m.comp;
          facts['to'] = to.m.comp;
          facts['slotsMoved'] = count;
          facts['replyKeysInMovedSlots'] = from.keys.filter((k) => moving.has(keySlot(k))).length;
          facts['replySlotsMoved'] = replySlots.length;
          startedAt = Date.now();
          await rs.cli(
            from.m.comp,
            '--cluster',
            'reshard',
            `127.0.0.1:${from.m.port}`,
            '--cluster-from',
            from.m.id,
            '--cluster-to',
            to.m.id,
            '--cluster-slots',
            String(count),
            '--cluster-yes',
          );
          facts['reshardMs'] = Date.now() - startedAt;
          const after = await rs.clusterNodes();
          const owner = (slot: number) =>
            after.find((n) => n.master && n.slots.some(([lo, hi]) => lo <= slot && slot <= hi))?.comp;
          const movedOk = replySlots.filter((s) => owner(s) === to.m.comp).length;
          recoveredAt = Date.now();
          faultChecks.push(
            check(
              `fault took effect: ${count} slots of ${from.m.comp} moved to ${to.m.comp} under load, ${replySlots.length} of them holding reply keys (${String(facts['replyKeysInMovedSlots'])})`,
              replySlots.length > 0 && movedOk === replySlots.length,
              `${movedOk}/${replySlots.length} reply slots moved (${count} slots in ${String(facts['reshardMs'])} ms)`,
            ),
          );
          await sleep(500);
        },
      );
      facts['machine'] = machineFacts(loop);
      const res = summarize(16, this.title, ctx, r, load.records, { durationS, shed: load.shed });
      const checks = await judgeRedis(r, cctx, res, load.records, startedAt, recoveredAt, facts, false);
      return await conclude(r, res, facts, [
        ...faultChecks,
        check(
          'zero errors (a resharding is no outage: MOVED/ASK are followed)',
          countErrors(res.errors) === 0,
          JSON.stringify(res.errors),
        ),
        ...checks,
      ]);
    } finally {
      await r.close();
    }
  },
};

/** The scenarios on a Redis Cluster or Sentinel set of their own. */
export const REDIS_SHAPE_SCENARIOS: readonly Scenario[] = [clusterMasterKill, sentinelFailover, resharding];
