import type { IntervalHistogram } from 'node:perf_hooks';
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
  errorsPerSecond,
  endsOfTheLoad,
  keptUp,
  loadFor,
  machineFacts,
  nothingNeverAnswered,
  only503or504,
  recovered,
  rig,
  skipped,
  sleep,
  replyKeyOf,
  storedLater,
  summarize,
  underLoad,
  until,
  watchEventLoop,
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
    // Replies stored late stay until the harness has looked for them, and their remaining TTL
    // tells when they were stored (see storedAt).
    env: { REPLYGATE_REPLY_TTL_MS: String(REPLY_TTL_MS) },
    echoConcurrency: 8,
  });
  return { rs, cctx, r, loop: watchEventLoop() };
}

/** The reply TTL of the Redis-shape rigs (replies stored late must outlive the judging). */
const REPLY_TTL_MS = 300_000;

/**
 * When each reply was written to Redis, from its remaining TTL: a reply is written once
 * (`SET … PX ttl NX`, a rewrite after a failover only where the key was lost) and never deleted,
 * so it was stored `ttl - PTTL` ms before the PTTL answer. Ids without a key are left out.
 */
async function storedAt(r: Rig, ids: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 200) {
    const chunk = ids.slice(i, i + 200);
    const pttls = await Promise.all(chunk.map((id) => r.redis.pttl(replyKeyOf(r, id))));
    const now = Date.now();
    chunk.forEach((id, j) => {
      const pttl = pttls[j]!;
      if (pttl >= 0) out.set(id, now - (REPLY_TTL_MS - pttl));
    });
  }
  return out;
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

const percentiles = (xs: number[]): { p0: number | null; p50: number | null; p100: number | null } => ({
  p0: percentile(xs, 0),
  p50: percentile(xs, 50),
  p100: percentile(xs, 100),
});

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
  heldByVictim?: (key: string) => boolean,
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
  facts['errorsPerSecondFromFault'] = errorsPerSecond(records, faultAt);
  // A 200 at the deadline whose reply was on the topic a second before: found only by the last
  // read. Either Redis could not take the reply until late (an outage, the relays' backlog after
  // it), or the wake missed it (not re-subscribed where the key now lives, no re-read after the
  // change). The reply key's remaining TTL tells which: stored a second or more before the
  // deadline and not woken is a missed wake.
  const atDeadline = records.filter(
    (x) =>
      x.outcome.kind === 'ok' &&
      x.endedAt - x.sentAt >= routeTimeoutMs &&
      (replies.get(cid(x))?.timestamp ?? Infinity) < x.sentAt + routeTimeoutMs - 1000,
  );
  facts['okOnlyAtTheDeadline'] = atDeadline.length;
  const stores = await storedAt(r, atDeadline.map(cid));
  const landed = (x: RequestRecord): number => replies.get(cid(x))?.timestamp ?? Infinity;
  const storedMs = (x: RequestRecord): number => stores.get(cid(x)) ?? Infinity;
  // Readable from: its store, or the recovery for a key the killed master held (written just
  // before the kill, replicated, then out of reach until the promotion).
  const held = new Set(atDeadline.filter((x) => heldByVictim?.(replyKeyOf(r, cid(x))) === true));
  const readableFrom = (x: RequestRecord): number =>
    held.has(x) ? Math.max(storedMs(x), recoveredAt ?? Infinity) : storedMs(x);
  const missedWake = atDeadline.filter((x) => readableFrom(x) < x.sentAt + routeTimeoutMs - 1000);
  const withoutKey = atDeadline.filter((x) => !stores.has(cid(x))).length;
  facts['okOnlyAtTheDeadlineHeldByTheKilledMaster'] = held.size;
  const span = (xs: number[]) => (xs.length ? [Math.min(...xs) - faultAt, Math.max(...xs) - faultAt] : null);
  facts['okOnlyAtTheDeadlineReplyLandedMsFromFault'] = span(atDeadline.map(landed));
  facts['okOnlyAtTheDeadlineStoredMsFromFault'] = span(atDeadline.map(storedMs).filter(Number.isFinite));
  // How long after its landing on the topic each was stored (the relays' delay), and how long
  // before its deadline (a missed wake when ≥ 1 s).
  facts['okOnlyAtTheDeadlineStoredMsAfterLanding'] = atDeadline.length
    ? percentiles(atDeadline.map((x) => storedMs(x) - landed(x)))
    : null;
  facts['okOnlyAtTheDeadlineStoredMsBeforeDeadline'] = atDeadline.length
    ? percentiles(atDeadline.map((x) => x.sentAt + routeTimeoutMs - storedMs(x)))
    : null;
  facts['okOnlyAtTheDeadlineWithoutKey'] = withoutKey;
  facts['okOnlyAtTheDeadlineReadableASecondBefore'] = missedWake.length;
  facts['outageMsFromFault'] = outage ? (recoveredAt === undefined ? null : recoveredAt - faultAt) : 0;
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
  const { tail, before: beforeAll } = endsOfTheLoad(records, faultAt, facts);
  return [
    keptUp(beforeAll, 'the deployment kept up with the load before the fault'),
    nothingNeverAnswered(res),
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
    only503or504(res),
    check(
      'no 200 found only by the deadline read whose reply was readable in Redis ≥ 1 s before its deadline (stored, and its master up: the wake followed the change)',
      missedWake.length === 0 && withoutKey === 0,
      `${missedWake.length} such; ${atDeadline.length} answered 200 at the deadline with their reply on the topic ≥ 1 s before, ` +
        `${atDeadline.length - missedWake.length} of them readable less than 1 s before their deadline (stored late: Redis or the relays' backlog; ` +
        `or held by the killed master until the promotion: ${held.size} were on it), ` +
        `${withoutKey} with no key left to date`,
    ),
    recovered(tail),
  ];
}

/** What a Redis-shape fault records while it runs (read by the judging and the clean-up). */
interface FaultState {
  /** When the fault was injected (the error window and the latencies count from it). */
  at: number;
  /** When the shape took writes again, if it did. */
  recoveredAt?: number;
  /** The component taken down, started again after the run. */
  victim?: string;
  /**
   * Whether a reply key was held by the killed master (its slot was the victim's; on Sentinel,
   * every key): such a reply, even stored just before the kill, is readable only once the shape
   * recovered, so a deadline read finding it then is no missed wake.
   */
  heldByVictim?: (key: string) => boolean;
}

/** A Redis-shape scenario: its fault under load, then the checks of {@link judgeRedis}. */
function redisShapeScenario(spec: {
  id: number;
  title: string;
  shape: RedisFaultShape;
  /** The rig's tag (names of its topics and groups). */
  tag: string;
  /** How long the load goes on after the fault at least: [quick, full] ms. */
  tailMs: [number, number];
  /** Redis could not take writes from the fault until it recovered (a failover; not a resharding). */
  outage: boolean;
  fault(
    set: RedisRun,
    ctx: ScenarioContext,
    facts: Record<string, unknown>,
    faultChecks: Check[],
    state: FaultState,
  ): Promise<void>;
  /** The scenario's own checks after the load, before the common ones. */
  checks?(res: ReturnType<typeof summarize>): Check[];
}): Scenario {
  const { id, title, shape } = spec;
  const noStack = shape === 'cluster' ? 'no Redis Cluster stack' : 'no Sentinel stack';
  return {
    id,
    title,
    inTestSuite: false,
    redis: shape,
    async run(ctx) {
      const set = await redisRig(ctx, shape, spec.tag);
      if (set === undefined) return skipped(id, title, ctx, `${noStack} (the runner gives none)`);
      const { rs, cctx, r, loop } = set;
      const state: FaultState = { at: 0 };
      try {
        const facts: Record<string, unknown> = {};
        const faultChecks: Check[] = [];
        const { load, durationS } = await underLoad(
          r,
          cctx,
          {
            durationMs: ctx.quick ? 20_000 : 50_000,
            faultAtMs: ctx.quick ? 4_000 : 10_000,
            tailMs: ctx.quick ? spec.tailMs[0] : spec.tailMs[1],
          },
          () => spec.fault(set, ctx, facts, faultChecks, state),
        );
        facts['machine'] = machineFacts(loop);
        const res = summarize(id, title, ctx, r, load.records, { durationS, shed: load.shed });
        const checks = await judgeRedis(
          r,
          cctx,
          res,
          load.records,
          state.at,
          state.recoveredAt,
          facts,
          spec.outage,
          state.heldByVictim,
        );
        return await conclude(r, res, facts, [...faultChecks, ...(spec.checks?.(res) ?? []), ...checks]);
      } finally {
        await r.close();
        if (state.victim !== undefined) ctx.log(`  ${state.victim} started again (${await rs.start(state.victim)} ms)`);
      }
    },
  };
}

/**
 * SIGKILLs `victim` (the fault, from now: `state.at`) and checks (named `name`) that it was running
 * (`pidBefore`), is gone, and held reply keys (`keys`).
 */
async function sigkill(
  rs: RedisShapeStack,
  victim: string,
  pidBefore: number | undefined,
  state: FaultState,
  name: string,
  keys: number,
): Promise<Check> {
  state.at = Date.now();
  await rs.kill(victim);
  const pidAfter = rs.pidOf(victim);
  return check(
    name,
    pidBefore !== undefined && pidAfter === undefined && keys > 0,
    `pid ${String(pidBefore)} → ${pidAfter === undefined ? 'gone' : String(pidAfter)}`,
  );
}

/**
 * After a {@link sigkill}: polls `promoted` (every 100 ms, up to 60 s) until it says a new master
 * took over; records who (`facts[whoFact]`, from `who`) and how long it took (`facts[afterMsFact]`),
 * the recovery (`state.recoveredAt`), then waits until every http replica is ready again.
 */
async function awaitPromotion(
  { r }: RedisRun,
  ctx: ScenarioContext,
  facts: Record<string, unknown>,
  state: FaultState,
  promoted: () => Promise<boolean>,
  who: () => string | undefined,
  whoFact: string,
  afterMsFact: string,
): Promise<boolean> {
  const ok = await until(promoted, 60_000, 100);
  facts[whoFact] = who() ?? null;
  facts[afterMsFact] = ok ? Date.now() - state.at : null;
  state.recoveredAt = ok ? Date.now() : undefined;
  const ready = await allHttpReady(r, ctx.log);
  facts['allReadyAfterKillMs'] = ready ? Date.now() - state.at : null;
  return ok;
}

/** Scenario 14: the cluster master holding most of this deployment's reply keys SIGKILLed. */
const clusterMasterKill = redisShapeScenario({
  id: 14,
  title: 'Redis Cluster: the master holding the most reply keys SIGKILLed (its replica promoted)',
  shape: 'cluster',
  tag: 'rcmkill',
  tailMs: [8_000, 15_000],
  outage: true,
  async fault(set, ctx, facts, faultChecks, state) {
    const { rs, r } = set;
    const byPort = await replyKeysByPort(r);
    const [port, keys] = [...byPort.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [0, []];
    const v = { comp: rs.compOf(port), pid: rs.pidOf(rs.compOf(port)) };
    state.victim = v.comp;
    const before = await rs.clusterNodes();
    const victimLine = before.find((n) => n.port === port);
    const itsReplicas = before.filter((n) => !n.master && n.masterId !== undefined && n.masterId === victimLine?.id);
    facts['victim'] = v.comp;
    facts['victimReplyKeys'] = `${keys.length} of ${[...byPort.values()].reduce((s, k) => s + k.length, 0)}`;
    facts['victimSlots'] = victimLine?.slots ?? [];
    state.heldByVictim = (key) => {
      const slot = keySlot(key);
      return (victimLine?.slots ?? []).some(([lo, hi]) => lo <= slot && slot <= hi);
    };
    facts['itsReplicas'] = itsReplicas.map((n) => n.comp);
    faultChecks.push(
      await sigkill(
        rs,
        v.comp,
        v.pid,
        state,
        `fault took effect: ${v.comp} (a master with ${keys.length} reply keys) was running and is gone after SIGKILL`,
        keys.length,
      ),
    );
    // Promoted: another live node is master of the victim's first slot, and every node is ok.
    const firstSlot = victimLine?.slots[0]?.[0];
    let promoted: string | undefined;
    const ok = await awaitPromotion(
      set,
      ctx,
      facts,
      state,
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
      () => promoted,
      'promoted',
      'promotedAndClusterOkAfterMs',
    );
    faultChecks.push(
      check(
        `fault took effect: a replica of ${v.comp} was promoted to master of its slots and the cluster is ok again`,
        ok && promoted !== undefined && itsReplicas.some((n) => n.comp === promoted),
        `${String(promoted)} after ${String(facts['promotedAndClusterOkAfterMs'])} ms`,
      ),
    );
  },
});

/** Scenario 15: the Sentinel primary SIGKILLed; the sentinels fail over to a replica. */
const sentinelFailover = redisShapeScenario({
  id: 15,
  title: 'Redis Sentinel: the primary SIGKILLed (the sentinels promote a replica)',
  shape: 'sentinel',
  tag: 'rsfail',
  tailMs: [8_000, 15_000],
  outage: true,
  async fault(set, ctx, facts, faultChecks, state) {
    const { rs, r } = set;
    const primary = await rs.sentinelPrimary();
    if (primary === undefined) throw new Error('no sentinel names a primary');
    const v = { comp: primary.comp, pid: rs.pidOf(primary.comp) };
    state.victim = primary.comp;
    state.heldByVictim = () => true;
    const keys = [...(await replyKeysByPort(r)).values()].reduce((s, k) => s + k.length, 0);
    facts['victim'] = primary.comp;
    facts['replyKeysOnThePrimary'] = keys;
    faultChecks.push(
      await sigkill(
        rs,
        primary.comp,
        v.pid,
        state,
        `fault took effect: the primary ${primary.comp} (holding ${keys} reply keys) was running and is gone after SIGKILL`,
        keys,
      ),
    );
    let next: string | undefined;
    const failedOver = await awaitPromotion(
      set,
      ctx,
      facts,
      state,
      async () => {
        next = (await rs.sentinelPrimary())?.comp;
        return next !== undefined && next !== primary.comp;
      },
      () => next,
      'newPrimary',
      'sentinelsNamedANewPrimaryAfterMs',
    );
    faultChecks.push(
      check(
        'fault took effect: the sentinels named a replica the new primary',
        failedOver,
        `${String(next)} after ${String(facts['sentinelsNamedANewPrimaryAfterMs'])} ms`,
      ),
    );
  },
});

/**
 * Scenario 16: a live resharding (`redis-cli --cluster reshard`) of the slot range of the master
 * holding the most reply keys, to the master holding the fewest, under load.
 */
const resharding = redisShapeScenario({
  id: 16,
  title: 'Redis Cluster: live resharding of a slot range holding reply keys (redis-cli --cluster reshard)',
  shape: 'cluster',
  tag: 'rcreshard',
  tailMs: [6_000, 12_000],
  outage: false,
  async fault({ rs, r }, ctx, facts, faultChecks, state) {
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
    const startedAt = Date.now();
    state.at = startedAt;
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
    state.recoveredAt = Date.now();
    faultChecks.push(
      check(
        `fault took effect: ${count} slots of ${from.m.comp} moved to ${to.m.comp} under load, ${replySlots.length} of them holding reply keys (${String(facts['replyKeysInMovedSlots'])})`,
        replySlots.length > 0 && movedOk === replySlots.length,
        `${movedOk}/${replySlots.length} reply slots moved (${count} slots in ${String(facts['reshardMs'])} ms)`,
      ),
    );
    await sleep(500);
  },
  checks: (res) => [
    check(
      'zero errors (a resharding is no outage: MOVED/ASK are followed)',
      countErrors(res.errors) === 0,
      JSON.stringify(res.errors),
    ),
  ],
});

/** The scenarios on a Redis Cluster or Sentinel set of their own. */
export const REDIS_SHAPE_SCENARIOS: readonly Scenario[] = [clusterMasterKill, sentinelFailover, resharding];
