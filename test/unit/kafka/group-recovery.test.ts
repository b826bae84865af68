import { expect } from 'chai';
import { createRequire } from 'node:module';
import { installGroupRecovery } from '../../../src/kafka/group-recovery';

/**
 * kafkajs' own ConsumerGroup and OffsetManager classes (the ones the patch changes), built with a
 * fake cluster and fake brokers so that each recovery path is driven by the very error a broker
 * sends. The rolling-restart integration test checks the same on a real three-broker cluster.
 */
const req = createRequire(__filename);
type Ctor = new (options: Record<string, unknown>) => Record<string, (...args: unknown[]) => Promise<void>> & {
  coordinator: unknown;
  offsetManager: { coordinator: unknown } | null;
  memberId: string | null;
};
const ConsumerGroup = req('kafkajs/src/consumer/consumerGroup') as Ctor;
const OffsetManager = req('kafkajs/src/consumer/offsetManager') as Ctor;

/** A kafkajs-shaped protocol error. */
const kafkaError = (type: string) => Object.assign(new Error(type), { type, name: 'KafkaJSProtocolError' });

const logger = {
  namespace: () => logger,
  info: () => undefined,
  debug: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
const emitter = { emit: () => undefined };

/** A broker that answers heartbeats and commits, failing with `error` while `fails` says so. */
function broker(name: string, sent: string[], error?: string) {
  const fail = async (what: string) => {
    sent.push(`${what}@${name}`);
    if (error !== undefined) throw kafkaError(error);
  };
  return {
    name,
    isConnected: () => true,
    heartbeat: () => fail('heartbeat'),
    offsetCommit: () => fail('commit'),
  };
}

function fakeCluster(calls: string[], coordinator: unknown, partitionsOfT: number[] = [0, 1]) {
  const committed = {};
  return {
    committedOffsets: () => committed,
    findTopicPartitionMetadata: (topic: string) =>
      topic === 't' ? partitionsOfT.map((partitionId) => ({ partitionId })) : [],
    refreshMetadata: async () => void calls.push('refreshMetadata'),
    findGroupCoordinator: async () => {
      calls.push('findGroupCoordinator');
      return coordinator;
    },
  };
}

function group(calls: string[], current: unknown, next: unknown, partitionsOfT?: number[]) {
  const g = new ConsumerGroup({
    cluster: fakeCluster(calls, next, partitionsOfT),
    groupId: 'g',
    topics: ['t'],
    topicConfigurations: {},
    logger,
    instrumentationEmitter: emitter,
    assigners: [],
    retry: { retries: 0 },
  });
  g.coordinator = current;
  g.memberId = 'm';
  g['joinAndSync'] = async () => void calls.push('joinAndSync');
  g['assigned'] = (() => [{ topic: 't', partitions: [0, 1] }]) as never;
  return g;
}

describe('group recovery (kafkajs consumer groups across a moved leader or coordinator)', () => {
  before(() => {
    expect(installGroupRecovery().installed, 'installed on the kafkajs this project pins').to.equal(true);
  });

  it('is installed once, whatever the number of calls', () => {
    expect(installGroupRecovery()).to.equal(installGroupRecovery());
  });

  for (const type of [
    'NOT_LEADER_FOR_PARTITION',
    'LEADER_NOT_AVAILABLE',
    'FENCED_LEADER_EPOCH',
    'UNKNOWN_LEADER_EPOCH',
  ]) {
    it(`a fetch answered ${type} refreshes metadata and does not rejoin`, async () => {
      const calls: string[] = [];
      await group(calls, undefined, undefined)['recoverFromFetch']!(kafkaError(type));
      expect(calls).to.deep.equal(['refreshMetadata']);
    });
  }

  it('a fetch answered UNKNOWN_TOPIC_OR_PARTITION still rejoins when fresh metadata lacks an assigned partition (a deleted topic)', async () => {
    const calls: string[] = [];
    await group(calls, undefined, undefined, [0])['recoverFromFetch']!(kafkaError('UNKNOWN_TOPIC_OR_PARTITION'));
    expect(calls).to.deep.equal(['refreshMetadata', 'refreshMetadata', 'joinAndSync']);
  });

  it('a fetch answered UNKNOWN_TOPIC_OR_PARTITION by a broker that had just restarted: fresh metadata has the partitions, no rejoin', async () => {
    const calls: string[] = [];
    await group(calls, undefined, undefined, [0, 1])['recoverFromFetch']!(kafkaError('UNKNOWN_TOPIC_OR_PARTITION'));
    expect(calls).to.deep.equal(['refreshMetadata']);
    const notLoaded = Object.assign(new Error('Topic metadata not loaded'), { name: 'KafkaJSTopicMetadataNotLoaded' });
    await group(calls, undefined, undefined, [0, 1])['recoverFromFetch']!(notLoaded);
    expect(calls).to.deep.equal(['refreshMetadata', 'refreshMetadata']);
  });

  it('a heartbeat answered NOT_COORDINATOR finds the coordinator again, for the offset manager too, and beats once more', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const next = broker('new', sent);
    const g = group(calls, broker('old', sent, 'NOT_COORDINATOR_FOR_GROUP'), next);
    g.offsetManager = { coordinator: 'stale' };
    await g['heartbeat']!({ interval: 0 });
    expect(calls).to.deep.equal(['findGroupCoordinator']);
    expect(sent).to.deep.equal(['heartbeat@old', 'heartbeat@new']);
    expect(g.coordinator).to.equal(next);
    expect(g.offsetManager.coordinator).to.equal(next);
  });

  it('a heartbeat finds the coordinator again until FindCoordinator stops naming the old one (seen in CI: one try was not enough)', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const old = broker('old', sent, 'NOT_COORDINATOR_FOR_GROUP');
    const next = broker('new', sent);
    const g = group(calls, old, next);
    const answers = [old, old, next];
    (g as unknown as { cluster: { findGroupCoordinator: () => Promise<unknown> } }).cluster.findGroupCoordinator =
      async () => answers.shift();
    await g['heartbeat']!({ interval: 0 });
    expect(sent).to.deep.equal(['heartbeat@old', 'heartbeat@old', 'heartbeat@old', 'heartbeat@new']);
    expect(g.coordinator).to.equal(next);
  });

  it('a coordinator that keeps refusing: the heartbeat throws after the retries, and kafkajs rejoins', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const old = broker('old', sent, 'NOT_COORDINATOR_FOR_GROUP');
    const g = group(calls, old, old);
    let thrown: unknown;
    await g['heartbeat']!({ interval: 0 }).catch((e: unknown) => (thrown = e));
    expect((thrown as { type?: string }).type).to.equal('NOT_COORDINATOR_FOR_GROUP');
    expect(sent.length, 'one heartbeat and one per retry').to.equal(7);
  });

  it('a heartbeat that cannot reach the coordinator finds it again', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const dead = {
      heartbeat: async () => {
        sent.push('heartbeat@dead');
        throw Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' });
      },
    };
    await group(calls, dead, broker('new', sent))['heartbeat']!({ interval: 0 });
    expect(sent).to.deep.equal(['heartbeat@dead', 'heartbeat@new']);
  });

  it('a heartbeat answered REBALANCE_IN_PROGRESS is left to kafkajs (thrown: the runner rejoins)', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const g = group(calls, broker('old', sent, 'REBALANCE_IN_PROGRESS'), broker('new', sent));
    const thrown = await g['heartbeat']!({ interval: 0 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((thrown as { type?: string } | undefined)?.type).to.equal('REBALANCE_IN_PROGRESS');
    expect(calls).to.deep.equal([]);
  });

  it('an offset commit answered NOT_COORDINATOR is sent again to the coordinator found again', async () => {
    const calls: string[] = [];
    const sent: string[] = [];
    const next = broker('new', sent);
    const manager = new OffsetManager({
      cluster: fakeCluster(calls, next),
      coordinator: broker('old', sent, 'NOT_COORDINATOR_FOR_GROUP'),
      memberAssignment: { t: [0] },
      topicConfigurations: {},
      instrumentationEmitter: emitter,
      groupId: 'g',
      generationId: 1,
      memberId: 'm',
    });
    await manager['commitOffsets']!({ topics: [{ topic: 't', partitions: [{ partition: 0, offset: '5' }] }] });
    expect(sent).to.deep.equal(['commit@old', 'commit@new']);
    expect(manager.coordinator).to.equal(next);
  });
});
