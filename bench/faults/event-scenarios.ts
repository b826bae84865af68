import type { KafkaMessage } from 'kafkajs';
import { testKafka } from '../../test/support/gateway-fixture';
import { readTopicToEnd } from '../../test/support/topic-messages';
import { EVENT_REWIND_DELAY_MS } from '../../src/relay/event-relay-host';
import type { Member } from './deployment';
import type { RequestRecord } from './load-generator';
import { assignments, ownedBy, stillMember } from './relay-scenarios';
import {
  allHttpReady,
  check,
  conclude,
  countErrors,
  lastThreeSeconds,
  loadFor,
  only503or504,
  recovered,
  redisRunId,
  rig,
  summarize,
  underLoad,
  until,
  type Rig,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario-kit';

/**
 * The event-await route (issue 15) under faults: `POST /order/:id` publishes a command, a plain
 * kafkajs service emits `CREATED` then `VALIDATED` for the order on the event topic, and the
 * request is answered with the `VALIDATED` event, read by the relays in their own event group
 * (REPLYGATE_EVENT_GROUP), one group: a relay's event partitions are read by it alone.
 */

/** Judge a 200: the `VALIDATED` event of this very order. */
export function eventCheck(id: string, status: number, body: string): string | undefined {
  if (status !== 200) return `status ${status}`;
  try {
    const parsed = JSON.parse(body) as { id?: string; status?: string };
    if (parsed.id !== id || parsed.status !== 'VALIDATED') {
      return `expected ${id} VALIDATED, got id=${String(parsed.id)} status=${String(parsed.status)}`;
    }
    return undefined;
  } catch (err) {
    return `unparsable body: ${(err as Error).message}`;
  }
}

/** Where and when each order's `VALIDATED` event landed (partition, Kafka timestamp), by order id. */
async function eventLandings(ctx: ScenarioContext, r: Rig): Promise<Map<string, { partition: number; at: number }>> {
  const out = new Map<string, { partition: number; at: number }>();
  await readTopicToEnd(
    testKafka(ctx.stack),
    r.topics['events'] as string,
    (partition: number, m: KafkaMessage) => {
      const v = JSON.parse(m.value?.toString() ?? '{}') as { id?: string; status?: string };
      if (v.status === 'VALIDATED' && v.id !== undefined && !out.has(v.id))
        out.set(v.id, { partition, at: Number(m.timestamp) });
    },
    { groupPrefix: 'faults-event-landings', timeoutMs: 30_000 },
  );
  return out;
}

const is504 = (x: RequestRecord): boolean => x.outcome.kind === 'status' && x.outcome.status === 504;

/** Runs the load on the event route with the other scenarios' load. */
function eventLoad(
  r: Rig,
  ctx: ScenarioContext,
  timing: { durationMs: number; faultAtMs: number; tailMs: number; routeTimeoutMs: number },
  fault: () => Promise<void>,
) {
  return underLoad(r, ctx, { ...timing, path: (id) => `/order/${id}`, check: eventCheck }, fault);
}

/**
 * Scenarios 17 and 19: the relay owning the most event partitions (in the first event group) is
 * SIGKILLed. 17: one relay group, two relays in it (a relay's event partitions are read by it
 * alone: its waiters answer 504 until the group fails over). 19: the production topology, two relay
 * groups with one relay each; the event groups follow them (`<REPLYGATE_EVENT_GROUP>-1`), so the
 * other group's relay reads every event partition and no waiter may answer 504.
 */
function eventRelayKill(id: number, groups: 1 | 2): Scenario {
  return {
    id,
    title:
      groups === 1
        ? 'event-await route: a relay of the event group SIGKILLed while it owns event partitions'
        : 'event-await route: a relay SIGKILLed, two relay groups (the production topology: an event group each)',
    inTestSuite: false,
    async run(ctx): Promise<ScenarioResult> {
      const { routeTimeoutMs } = loadFor(ctx);
      const r = await rig(ctx, `evkill${groups}`, { routeTimeoutMs, events: true, relayGroups: groups });
      try {
        const facts: Record<string, unknown> = {
          relaySessionTimeoutMs: Number(ctx.env?.['REPLYGATE_RELAY_SESSION_TIMEOUT_MS'] ?? 10_000),
        };
        const eventGroup = r.eventGroup as string;
        let killedAt = 0;
        let leftAt: number | null = null;
        let victimPartitions: number[] = [];
        const { load, durationS } = await eventLoad(
          r,
          ctx,
          {
            durationMs: ctx.quick ? 8_000 : 45_000,
            faultAtMs: ctx.quick ? 3_000 : 10_000,
            tailMs: 4_000,
            routeTimeoutMs,
          },
          async () => {
            const admin = testKafka(ctx.stack).admin();
            await admin.connect();
            try {
              const owned = await assignments(admin, eventGroup, r.topics['events'] as string);
              // (two groups: the relays of the first event group; a member of the other owns nothing there)
              const victim = r.dep
                .live('relay')
                .reduce((a: Member, b: Member) => (ownedBy(owned, b).length > ownedBy(owned, a).length ? b : a));
              victimPartitions = ownedBy(owned, victim);
              facts['victim'] = victim.name;
              facts['victimEventPartitions'] = victimPartitions;
              await r.dep.kill(victim);
              killedAt = Date.now();
              facts['victimDiedOfSigkill'] = victim.replica.child.signalCode === 'SIGKILL';
              const left = await until(async () => !(await stillMember(admin, eventGroup, victim)), 120_000, 250);
              leftAt = left ? Date.now() : null;
              facts['leftEventGroupAfterMs'] = leftAt === null ? null : leftAt - killedAt;
            } finally {
              await admin.disconnect();
            }
          },
        );
        const res = summarize(id, this.title, ctx, r, load.records, { durationS, shed: load.shed });
        const landings = await eventLandings(ctx, r);
        const timeouts = load.records.filter(is504);
        // A 504 is explained when its event sat on a partition of the dead relay, and the request was
        // in flight between the kill and the moment the surviving relay could take that partition
        // over (the victim left the group, plus a rebalance: 3 s).
        const unexplained = timeouts.filter((x) => {
          const l = landings.get(x.id);
          if (l === undefined || !victimPartitions.includes(l.partition)) return true;
          return x.sentAt + routeTimeoutMs < killedAt || x.sentAt > (leftAt ?? Infinity) + 3_000;
        });
        facts['timeouts'] = timeouts.length;
        facts['timeoutsUnexplained'] = unexplained.slice(0, 5).map((x) => ({
          id: x.id,
          sentAfterKillMs: x.sentAt - killedAt,
          partition: landings.get(x.id)?.partition ?? null,
        }));
        const tail = lastThreeSeconds(load.records);
        facts['lastThreeSecondsOk'] = `${tail.ok}/${tail.of}`;
        const left = facts['leftEventGroupAfterMs'] as number | null;
        return conclude(r, res, facts, [
          check(
            'fault took effect: SIGKILL of a relay owning event partitions, which stayed in the event group until its session expired',
            facts['victimDiedOfSigkill'] === true &&
              victimPartitions.length > 0 &&
              left !== null &&
              left > routeTimeoutMs,
            `partitions ${JSON.stringify(victimPartitions)}, left after ${String(left)} ms (route timeout ${routeTimeoutMs} ms)`,
          ),
          ...(groups === 1
            ? [
                check(
                  "fault hurt: requests whose event sat on the dead relay's partitions answered 504",
                  timeouts.length > 0,
                  `${timeouts.length} × 504`,
                ),
                check(
                  "every 504 explained: its event was on the dead relay's partitions while nobody read them",
                  unexplained.length === 0,
                  `${unexplained.length} of ${timeouts.length} unexplained`,
                ),
              ]
            : [
                check(
                  "zero 504: the other relay group's event consumer read the dead relay's event partitions",
                  timeouts.length === 0,
                  `${timeouts.length} × 504`,
                ),
              ]),
          check(
            'no error other than 504',
            countErrors(res.errors, (k) => !k.startsWith('504')) === 0,
            JSON.stringify(res.errors),
          ),
          recovered(tail),
        ]);
      } finally {
        await r.close();
      }
    },
  };
}

/**
 * Scenario 18's route timeout and service delay: requests stay parked 2 s waiting for their event,
 * so the restart finds many waiters in Redis, and their deadline comes after the event relays'
 * re-read (all replicas ready again + EVENT_REWIND_DELAY_MS + the re-read itself), so every waiter
 * Redis lost must still be answered.
 */
const RESTART_ROUTE_TIMEOUT_MS = 15_000;
const RESTART_EVENT_DELAY_MS = 2_000;
/** Time the event relays' re-read may take once started. */
const REREAD_ALLOWANCE_MS = 3_000;

/** Scenario 18: Redis restarted (loses its data) under load on the event route. */
const eventRedisRestart: Scenario = {
  id: 18,
  title: 'event-await route: Redis restarted (waiters and kept states lost with it)',
  inTestSuite: false,
  async run(ctx): Promise<ScenarioResult> {
    const routeTimeoutMs = RESTART_ROUTE_TIMEOUT_MS;
    const r = await rig(ctx, 'evredis', { routeTimeoutMs, events: true, eventDelayMs: RESTART_EVENT_DELAY_MS });
    try {
      const facts: Record<string, unknown> = {};
      let runIdBefore: string | undefined;
      let runIdAfter: string | undefined;
      let outageAt = 0;
      let readyAt: number | null = null;
      const { load, durationS } = await eventLoad(
        r,
        ctx,
        {
          durationMs: ctx.quick ? 8_000 : 20_000,
          faultAtMs: ctx.quick ? 3_000 : 7_000,
          tailMs: ctx.quick ? 4_000 : 6_000,
          routeTimeoutMs,
        },
        async () => {
          outageAt = Date.now();
          runIdBefore = await redisRunId(r.redis);
          if (ctx.stack.restart === undefined) {
            facts['how'] = 'none: the stack cannot restart Redis (no REPLYGATE_STACK_DIR)';
            return;
          }
          facts['how'] = 'stack.restart(redis)';
          await ctx.stack.restart('redis');
          facts['outageCommandMs'] = Date.now() - outageAt;
          const back = await allHttpReady(r, ctx.log);
          readyAt = back ? Date.now() : null;
          facts['allReadyAgainMs'] = readyAt === null ? null : readyAt - outageAt;
          runIdAfter = await redisRunId(r.redis);
        },
      );
      const res = summarize(18, this.title, ctx, r, load.records, { durationS, shed: load.shed, routeTimeoutMs });
      facts['runIdChanged'] = runIdBefore !== undefined && runIdAfter !== undefined && runIdBefore !== runIdAfter;
      const unavailable = load.records.filter((x) => x.outcome.kind === 'status' && x.outcome.status === 503);
      const withRetryAfter = unavailable.filter(
        (x) => x.outcome.kind === 'status' && x.outcome.retryAfter !== undefined,
      ).length;
      const notReady = r.dep.readyLog.filter((e) => e.status !== 200).length;
      facts['readyzTurned503'] = notReady;
      facts['503WithRetryAfter'] = `${withRetryAfter}/${unavailable.length}`;
      // Requests waiting for their event when Redis went away: their waiters vanished with it; their
      // replica registered them again (new run_id), and the live relay or its re-read answers them.
      const inFlight = load.records.filter((x) => x.sentAt < outageAt && x.endedAt > outageAt);
      facts['eventServiceDelayMs'] = RESTART_EVENT_DELAY_MS;
      facts['waitingWhenRedisWentAway'] = inFlight.length;
      facts['waitingWhenRedisWentAwayOk'] = inFlight.filter((x) => x.outcome.kind === 'ok').length;
      // A 504 is explained only when its deadline came before the re-read could answer it (every
      // replica ready again + EVENT_REWIND_DELAY_MS + REREAD_ALLOWANCE_MS): a waiter lost with Redis
      // and never registered again, or an event never handled again, 504s later than that.
      const rereadBy = readyAt === null ? Infinity : readyAt + EVENT_REWIND_DELAY_MS + REREAD_ALLOWANCE_MS;
      facts['rereadDoneByMsFromFault'] = readyAt === null ? null : rereadBy - outageAt;
      facts['eventRewindDelayMs'] = EVENT_REWIND_DELAY_MS;
      const timeouts = load.records.filter(is504);
      const unexplained = timeouts.filter((x) => x.sentAt + routeTimeoutMs > rereadBy);
      facts['timeouts'] = timeouts.length;
      facts['timeoutsWithADeadlineAfterTheReread'] = unexplained.length;
      const tail = lastThreeSeconds(load.records);
      facts['lastThreeSecondsOk'] = `${tail.ok}/${tail.of}`;
      return conclude(r, res, facts, [
        check(
          'fault took effect: Redis restarted and lost its data (run_id changed)',
          facts['runIdChanged'] === true,
          `${String(facts['how'])}: run_id ${String(runIdBefore)} → ${String(runIdAfter)}`,
        ),
        check(
          'fault hurt: requests were refused with 503 while Redis was away',
          unavailable.length > 0 || notReady > 0,
          `${unavailable.length} × 503, /readyz turned 503 ${notReady} times`,
        ),
        check('every http replica ready again', readyAt !== null, String(facts['allReadyAgainMs'])),
        check(
          'fault hit waiters: requests were waiting for their event in Redis when it went away',
          inFlight.length > 0,
          `${inFlight.length} waiting, ${String(facts['waitingWhenRedisWentAwayOk'])} of them answered 200`,
        ),
        check(
          'every 504 explained: its deadline came before the re-read could answer it',
          unexplained.length === 0,
          `${unexplained.length} of ${timeouts.length} × 504 had their deadline after all ready + ${EVENT_REWIND_DELAY_MS} + ${REREAD_ALLOWANCE_MS} ms`,
        ),
        check(
          'every 503 carries Retry-After',
          withRetryAfter === unavailable.length,
          `${withRetryAfter}/${unavailable.length}`,
        ),
        only503or504(res),
        recovered(tail),
      ]);
    } finally {
      await r.close();
    }
  },
};

export const EVENT_SCENARIOS = { relayKill: eventRelayKill, redisRestart: eventRedisRestart };
