import { AssignerProtocol, type Admin } from 'kafkajs';
import { testKafka } from '../../test/support/gateway-fixture';
import type { Member } from './deployment';
import { topicLandings, type Landing } from './reply-arrivals';
import {
  check,
  conclude,
  countErrors,
  rig,
  storedLater,
  summarize,
  timeoutIds,
  underLoad,
  until,
  type Check,
  type Rig,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
} from './scenario-kit';

/**
 * Relays SIGKILLed (issue 16): a killed relay does not leave its consumer group, so its reply
 * partitions stay assigned to it until its session expires. Scenario 1 is the production topology
 * (two redundant relay groups, a relay each): no request may answer 504 even with a 1 s route
 * timeout. Scenario 12 is the same with one relay group (the behaviour before issue 16), for
 * comparison; scenario 13 kills two relays at once, one in each group, with two relays per group.
 */

/** Route timeout of the relay scenarios: far below any consumer-group failover (broker floor 6 s). */
const ROUTE_TIMEOUT_MS = 1000;

/** Which reply partitions each live member of relay group `groupId` owns, by instance id. */
export async function assignments(admin: Admin, groupId: string, topic: string): Promise<Map<string, number[]>> {
  const { groups } = await admin.describeGroups([groupId]);
  const out = new Map<string, number[]>();
  for (const m of groups[0]?.members ?? []) {
    const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
    out.set(
      m.clientId,
      [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b),
    );
  }
  return out;
}

/** The partitions a relay owns in its group (its Kafka client id ends with its instance id). */
export function ownedBy(owned: Map<string, number[]>, relay: Member): number[] {
  for (const [clientId, partitions] of owned) if (clientId.endsWith(relay.replica.instanceId)) return partitions;
  return [];
}

/** Whether the relay is still a member of its group. */
export async function stillMember(admin: Admin, groupId: string, relay: Member): Promise<boolean> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).some((m) => m.clientId.endsWith(relay.replica.instanceId));
}

/** SIGKILL the victims at once; resolves with the time of the kill and each victim's failover (ms). */
async function killAndWatch(
  r: Rig,
  ctx: ScenarioContext,
  victims: Member[],
  facts: Record<string, unknown>,
): Promise<number> {
  const admin = testKafka(ctx.stack).admin();
  await admin.connect();
  try {
    const topic = r.dep.names.replyTopic;
    const owned = await Promise.all(victims.map((v) => assignments(admin, r.dep.groupId(v.group ?? 0), topic)));
    facts['victims'] = victims.map((v, i) => ({
      name: v.name,
      group: v.group ?? 0,
      partitions: ownedBy(owned[i]!, v),
      storedBeforeKill: v.counters.repliesStored,
      duplicatesBeforeKill: v.counters.duplicatesAbsorbed,
    }));
    await Promise.all(victims.map((v) => r.dep.kill(v)));
    const killedAt = Date.now();
    facts['victimsDiedOfSigkill'] = victims.every((v) => v.replica.child.signalCode === 'SIGKILL');
    // Each dead relay stays a member of its group (owning its partitions) until its session expires.
    facts['leftItsGroupAfterMs'] = await Promise.all(
      victims.map(async (v) => {
        const left = await until(async () => !(await stillMember(admin, r.dep.groupId(v.group ?? 0), v)), 120_000, 250);
        return left ? Date.now() - killedAt : null;
      }),
    );
    return killedAt;
  } finally {
    await admin.disconnect();
  }
}

/** Scenario 1 (two groups) and 12 (one group): the relay that stored the most replies is SIGKILLed. */
function relayKill(id: number, title: string, groups: 1 | 2, inTestSuite: boolean): Scenario {
  return {
    id,
    title,
    inTestSuite,
    async run(ctx): Promise<ScenarioResult> {
      const r = await rig(ctx, `relaykill${groups}`, { routeTimeoutMs: ROUTE_TIMEOUT_MS, relayGroups: groups });
      try {
        const facts: Record<string, unknown> = {
          relayGroups: groups,
          relaySessionTimeoutMs: Number(ctx.env?.['REPLYGATE_RELAY_SESSION_TIMEOUT_MS'] ?? 10_000),
        };
        let killedAt = 0;
        const { load, durationS } = await underLoad(
          r,
          ctx,
          { durationMs: ctx.quick ? 8_000 : 45_000, faultAtMs: ctx.quick ? 3_000 : 10_000, tailMs: 4_000 },
          async () => {
            const victim = r.dep
              .live('relay')
              .reduce((a, b) => (b.counters.repliesStored > a.counters.repliesStored ? b : a));
            killedAt = await killAndWatch(r, ctx, [victim], facts);
          },
        );
        const res = summarize(id, title, ctx, r, load.records, {
          durationS,
          shed: load.shed,
          routeTimeoutMs: ROUTE_TIMEOUT_MS,
        });
        const timeouts = timeoutIds(load.records);
        const stalled = load.records
          .filter((x) => x.outcome.kind === 'status' && x.outcome.status === 504)
          .map((x) => x.sentAt - killedAt);
        facts['504sSentBetweenMsAfterKill'] = stalled.length ? [Math.min(...stalled), Math.max(...stalled)] : null;
        const stored = await storedLater(r, timeouts, 60_000);
        facts['timeouts'] = timeouts.length;
        facts['timeoutsWhoseReplyWasStoredLate'] = stored;
        const victim = (facts['victims'] as { storedBeforeKill: number; partitions: number[] }[])[0]!;
        const left = (facts['leftItsGroupAfterMs'] as (number | null)[])[0] ?? null;
        const sessionMs = facts['relaySessionTimeoutMs'] as number;
        // First the fault: the victim was relaying and owned partitions, died of SIGKILL, and
        // stayed in its group (owning them) until its session expired, far past the route timeout.
        const checks: Check[] = [
          check(
            'fault took effect: the killed relay was storing replies and owned reply partitions',
            victim.storedBeforeKill > 0 && victim.partitions.length > 0,
            `${victim.storedBeforeKill} stored before the kill, partitions ${JSON.stringify(victim.partitions)}`,
          ),
          check(
            'fault took effect: SIGKILL, and the dead relay kept its partitions until its session expired',
            facts['victimsDiedOfSigkill'] === true && left !== null && left > ROUTE_TIMEOUT_MS,
            `left its group ${String(left)} ms after the kill (session ${sessionMs} ms, route timeout ${ROUTE_TIMEOUT_MS} ms)`,
          ),
        ];
        if (groups === 2) {
          checks.push(
            check(
              'no request answers 504: the other relay group kept writing the dead relay’s partitions',
              timeouts.length === 0,
              `${timeouts.length} × 504`,
            ),
            check('no errors at all', countErrors(res.errors) === 0, JSON.stringify(res.errors)),
          );
        } else {
          checks.push(
            check(
              `fault hurt: replies on the dead relay's partitions waited past the ${ROUTE_TIMEOUT_MS} ms route timeout`,
              timeouts.length > 0,
              `${timeouts.length} × 504`,
            ),
            check(
              'no reply lost: every 504 has its reply stored in Redis later',
              stored === timeouts.length,
              `${stored}/${timeouts.length} stored`,
            ),
            check(
              'no error other than 504',
              countErrors(res.errors, (k) => !k.startsWith('504')) === 0,
              JSON.stringify(res.errors),
            ),
          );
        }
        return conclude(r, res, facts, checks);
      } finally {
        await r.close();
      }
    },
  };
}

/** A reply that lands this close to its deadline may miss it without any fault: a fetch wait and a write. */
const IN_TIME_MARGIN_MS = 300;

/**
 * Scenario 13: two relays per group; the relay that stored the most replies and, in the other
 * group, the relay owning most of the same partitions (its "backup") are SIGKILLed at once.
 */
const twoRelaysKilled: Scenario = {
  id: 13,
  title: 'two relays SIGKILLed at once, one in each of two redundant relay groups',
  inTestSuite: false,
  async run(ctx): Promise<ScenarioResult> {
    const r = await rig(ctx, 'relaykill22', { routeTimeoutMs: ROUTE_TIMEOUT_MS, relayGroups: 2, relays: 4 });
    try {
      const facts: Record<string, unknown> = {
        relayGroups: 2,
        relaysPerGroup: 2,
        relaySessionTimeoutMs: Number(ctx.env?.['REPLYGATE_RELAY_SESSION_TIMEOUT_MS'] ?? 10_000),
      };
      let overlap: number[] = [];
      let killedAt = 0;
      const { load, durationS } = await underLoad(
        r,
        ctx,
        { durationMs: ctx.quick ? 8_000 : 45_000, faultAtMs: ctx.quick ? 3_000 : 10_000, tailMs: 4_000 },
        async () => {
          const relays = r.dep.live('relay');
          const first = relays.reduce((a, b) => (b.counters.repliesStored > a.counters.repliesStored ? b : a));
          const admin = testKafka(ctx.stack).admin();
          await admin.connect();
          let backup: Member;
          try {
            const topic = r.dep.names.replyTopic;
            const mine = ownedBy(await assignments(admin, r.dep.groupId(first.group ?? 0), topic), first);
            const other = await assignments(admin, r.dep.groupId(1 - (first.group ?? 0)), topic);
            const candidates = relays.filter((m) => m.group !== first.group);
            const shared = (m: Member) => ownedBy(other, m).filter((p) => mine.includes(p));
            backup = candidates.reduce((a, b) => (shared(b).length > shared(a).length ? b : a));
            overlap = shared(backup);
          } finally {
            await admin.disconnect();
          }
          facts['partitionsBothVictimsOwned'] = overlap;
          killedAt = await killAndWatch(r, ctx, [first, backup], facts);
        },
      );
      const res = summarize(13, this.title, ctx, r, load.records, {
        durationS,
        shed: load.shed,
        routeTimeoutMs: ROUTE_TIMEOUT_MS,
      });
      // A 504's reply either reached the reply topic (then a relay must store it, on a partition
      // both dead relays owned) or was never sent: the echo service dropped the request because it
      // reached it after its deadline (responder stats.expired), which says the service fell behind,
      // not that the relay tier lost a reply.
      const timeouts = timeoutIds(load.records);
      const kafka = testKafka(ctx.stack);
      const landings =
        timeouts.length === 0 ? new Map<string, Landing>() : await topicLandings(kafka, r.dep.names.replyTopic);
      const replied = timeouts.filter((cid) => landings.has(cid));
      const stored = await storedLater(r, replied, 60_000);
      const unanswered = timeouts.length - replied.length;
      const byPartition: Record<string, number> = {};
      for (const cid of replied) {
        const p = String(landings.get(cid)!.partition);
        byPartition[p] = (byPartition[p] ?? 0) + 1;
      }
      facts['timeouts'] = timeouts.length;
      facts['timeoutsByReplyPartition'] = byPartition;
      facts['timeoutsWhoseReplyWasStoredLate'] = stored;
      facts['timeoutsTheServiceDroppedAsExpired'] = unanswered;
      facts['echoStats'] = r.echo.stats;
      const victims = facts['victims'] as { storedBeforeKill: number; partitions: number[] }[];
      const left = facts['leftItsGroupAfterMs'] as (number | null)[];
      const onOverlap = replied.filter((cid) => overlap.includes(landings.get(cid)!.partition)).length;
      // A 504 whose reply landed on a partition a surviving relay read is a reply the relay tier
      // failed to deliver only if it landed in time: by its request's deadline minus a relay's
      // fetch wait and write (IN_TIME_MARGIN_MS). One that landed later is the service's lateness
      // (the echo service behind the load, which also drops what reaches it expired). In the run at
      // 01:51, 53 such 504s landed from 7.6 s before the kill to 1.7 s after it, none near it.
      const sentAt = new Map(
        load.records.flatMap((x) =>
          x.outcome.kind === 'status' ? [[x.outcome.correlationId, x.sentAt] as const] : [],
        ),
      );
      const elsewhere = replied.filter((cid) => !overlap.includes(landings.get(cid)!.partition));
      const inTime = elsewhere.filter(
        (cid) => landings.get(cid)!.timestamp <= (sentAt.get(cid) ?? 0) + ROUTE_TIMEOUT_MS - IN_TIME_MARGIN_MS,
      );
      const outside = inTime.length;
      facts['timeoutsElsewhereWhoseReplyLandedAfterTheDeadline'] = elsewhere.length - inTime.length;
      facts['outsideLandedMsAfterKill'] = inTime.length
        ? [
            Math.min(...inTime.map((c) => landings.get(c)!.timestamp)) - killedAt,
            Math.max(...inTime.map((c) => landings.get(c)!.timestamp)) - killedAt,
          ]
        : null;
      return conclude(r, res, facts, [
        check(
          'fault took effect: both relays died of SIGKILL, each owning partitions, and stayed in their groups until their sessions expired',
          facts['victimsDiedOfSigkill'] === true &&
            victims.every((v) => v.partitions.length > 0) &&
            left.every((ms) => ms !== null && ms > ROUTE_TIMEOUT_MS),
          `partitions ${JSON.stringify(victims.map((v) => v.partitions))}, left after ${JSON.stringify(left)} ms`,
        ),
        check(
          overlap.length > 0
            ? `fault hurt where both groups lost the owner: 504s for replies on partitions ${JSON.stringify(overlap)}`
            : 'the two dead relays shared no partition: no 504 with a reply',
          overlap.length > 0 ? onOverlap > 0 : replied.length === 0,
          `${onOverlap} × 504 with their reply on those partitions`,
        ),
        check(
          'no 504 for a reply that landed in time on a partition that one group still read',
          outside === 0,
          `${outside} in time outside ${JSON.stringify(overlap)} (landed ${JSON.stringify(facts['outsideLandedMsAfterKill'])} ms after the kill); ${String(facts['timeoutsElsewhereWhoseReplyLandedAfterTheDeadline'])} landed after their deadline; by partition ${JSON.stringify(byPartition)}`,
        ),
        check(
          'no reply lost: every 504 whose reply reached the reply topic has it stored in Redis later',
          stored === replied.length,
          `${stored}/${replied.length}`,
        ),
        check(
          'every other 504 is a request the service dropped as expired (responder stats.expired)',
          unanswered <= r.echo.stats.expired,
          `${unanswered} without a reply, ${r.echo.stats.expired} dropped as expired by the echo service`,
        ),
        check(
          'no error other than 504',
          countErrors(res.errors, (k) => !k.startsWith('504')) === 0,
          JSON.stringify(res.errors),
        ),
      ]);
    } finally {
      await r.close();
    }
  },
};

export const RELAY_SCENARIOS = {
  redundant: relayKill(
    1,
    'relay SIGKILLed while it owns reply partitions (two redundant relay groups: the production topology)',
    2,
    true,
  ),
  singleGroup: relayKill(
    12,
    'relay SIGKILLed while it owns reply partitions, one relay group (before issue 16)',
    1,
    false,
  ),
  twoAtOnce: twoRelaysKilled,
};
