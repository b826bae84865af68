import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer, Producer } from 'kafkajs';
import { createRequire } from 'node:module';
import { createKafka } from '../../src/kafka/kafka-client';
import { groupRecoveryCounts } from '../../src/kafka/group-recovery';
import { SupervisedConsumer } from '../../src/kafka/supervised-consumer';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { ClusterStack } from '../support/cluster-stack';
import { LeaderWatch } from '../support/leader-watch';
import { unique } from '../support/unique';

/**
 * A rolling restart of a three-broker cluster (each broker SIGTERMed in turn: controlled shutdown,
 * then started and back in every ISR before the next) moves partition leaders and group
 * coordinators under two consumers of one group, as replygate's relays run. kafkajs 2.2 rejoins the
 * group for both (a rebalance that stops every member's fetching until all have rejoined); with
 * `group-recovery` installed (every SupervisedConsumer does), neither causes a rejoin. Counted from
 * kafkajs' own GROUP_JOIN events, so a busy machine does not change the verdict.
 */
describe('a rolling broker restart (three brokers, SIGTERM one at a time)', function () {
  this.timeout(600_000);
  let cluster: ClusterStack;

  before(async function () {
    cluster = await ClusterStack.up(mkdtempSync(join(tmpdir(), 'rg-rolling-')), false);
  });

  after(async () => {
    await cluster?.down();
  });

  // Why each join happened: kafkajs' own call site, shown when the rejoin assertion fails.
  const joinCalls: string[] = [];
  type GroupProto = { joinAndSync: (...a: unknown[]) => Promise<unknown> };
  const groupProto = (createRequire(__filename)('kafkajs/src/consumer/consumerGroup') as { prototype: GroupProto })
    .prototype;
  const joinAndSync = groupProto.joinAndSync;
  before(() => {
    groupProto.joinAndSync = function (this: unknown, ...a: unknown[]) {
      const at = (new Error().stack ?? '')
        .split('\n')
        .slice(2, 6)
        .map((l) => l.trim());
      joinCalls.push(`${new Date().toISOString()} ${at.join(' < ')}`);
      return joinAndSync.apply(this, a);
    };
  });
  after(() => {
    groupProto.joinAndSync = joinAndSync;
  });

  it('moves leaders and the group coordinator without a single rebalance, and every message is consumed', async () => {
    // kafkajs' warnings (the reason of any rejoin), shown when an assertion fails.
    const warnings: string[] = [];
    const log = pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          warnings.push(chunk.toString().slice(0, 400));
          done();
        },
      }),
    );
    const kafka = createKafka(cluster.stack.kafkaBrokers, unique('rolling'), log);
    const topic = unique('rolling-topic');
    const groupId = unique('rolling-group');
    const admin = kafka.admin();
    await admin.connect();
    await cluster.createTopics([topic], 6);

    const received = new Set<string>();
    const joins: number[] = [];
    let lastJoinAt = 0;
    const members = [0, 1].map(
      (i) =>
        new SupervisedConsumer({
          kafka,
          name: `rolling-${i}`,
          // The relay's group settings (src/relay/reply-relay.ts).
          consumerConfig: { groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000, maxWaitTimeInMs: 250 },
          subscription: { topics: [topic], fromBeginning: true },
          runConfig: () => ({
            eachMessage: async ({ message }) => {
              received.add(message.value?.toString() ?? '');
            },
          }),
          setup: (consumer: Consumer) => {
            consumer.on(consumer.events.GROUP_JOIN, () => {
              joins.push(i);
              lastJoinAt = Date.now();
            });
          },
          log,
        }),
    );
    const producer: Producer = kafka.producer();
    await producer.connect();
    const watch = new LeaderWatch(cluster.nodes, [topic, '__consumer_offsets']);
    const recoveredBefore = { ...groupRecoveryCounts };
    let sent = 0;
    let producing = true;
    const production = (async () => {
      while (producing) {
        const value = String(sent);
        await producer
          .send({ topic, acks: -1, messages: [{ key: value, value }] })
          .then(() => (sent += 1))
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await Promise.all(members.map((m) => m.start()));
      // Both members in the group, consuming, and no join for 5 s (the start-up rebalances are over):
      // the joins from here on are rebalances caused by the restarts.
      const settle = Date.now() + 90_000;
      while (Date.now() < settle && (received.size < 20 || new Set(joins).size < 2 || Date.now() - lastJoinAt < 5_000))
        await sleep(200);
      const joinsBefore = joins.length;
      const joinCallsBefore = joinCalls.length;
      await watch.start();
      const moved: number[] = [];
      const coordinatorMoves: boolean[] = [];
      for (const node of cluster.nodes) {
        const ledBefore = watch.ledBy(topic, node.id).length;
        const coordinatorBefore = watch.leaderOf(watch.offsetsPartition(groupId));
        const stopped = await cluster.stop(node.id);
        expect(stopped.sigkilled, `kafka-${node.id} stopped by SIGTERM, not SIGKILL`).to.equal(false);
        await sleep(1_000);
        moved.push(ledBefore);
        coordinatorMoves.push(coordinatorBefore === node.id);
        await cluster.start(node.id);
        const isr = await watch.untilFullIsr(120_000);
        expect(isr.ok, `every partition back in full ISR after kafka-${node.id}: ${isr.lagging.join(',')}`).to.equal(
          true,
        );
        await sleep(2_000);
      }
      producing = false;
      await production;
      const drained = Date.now() + 60_000;
      while (Date.now() < drained && received.size < sent) await sleep(200);

      // The fault happened: the stops moved leaderships of this topic and the group's coordinator.
      expect(
        moved.reduce((a, b) => a + b, 0),
        `partitions of ${topic} led by the stopped brokers`,
      ).to.be.greaterThan(0);
      expect(coordinatorMoves, 'one of the stopped brokers coordinated the group').to.include(true);
      // ...and cost no rebalance, lost nothing, and commits reach the new coordinator.
      const why = `joins called during the restart:\n${joinCalls.slice(joinCallsBefore).join('\n')}\nkafkajs warnings:\n${warnings.slice(-30).join('')}`;
      expect(
        joins.length - joinsBefore,
        `group rejoins during the rolling restart (joins: ${joins.join(',')}); ${why}`,
      ).to.equal(0);
      expect(received.size, `messages consumed of ${sent} sent`).to.equal(sent);
      const recovered =
        groupRecoveryCounts.movedLeader -
        recoveredBefore.movedLeader +
        groupRecoveryCounts.movedCoordinator -
        recoveredBefore.movedCoordinator;
      expect(
        recovered,
        'moved leaders or coordinators met by the consumers (recovered without a rejoin)',
      ).to.be.greaterThan(0);
      const ends = await admin.fetchTopicOffsets(topic);
      const committedAll = Date.now() + 30_000;
      let lagging: string[] = [];
      do {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        lagging = ends
          .filter((e) => committed?.partitions.find((p) => p.partition === e.partition)?.offset !== e.offset)
          .map((e) => `${e.partition}@${e.offset}`);
        if (lagging.length > 0) await sleep(500);
      } while (lagging.length > 0 && Date.now() < committedAll);
      expect(lagging, `partitions whose committed offset is short of the end; ${why}`).to.deep.equal([]);
    } finally {
      producing = false;
      await production;
      await watch.stop();
      await Promise.allSettled(members.map((m) => m.stop()));
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect();
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
