import { expect } from 'chai';
import type { Kafka, Producer } from 'kafkajs';
import { silentLogger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { newCorrelationId } from '../../src/protocol/correlation-id';
import { RG_HEADERS } from '../../src/protocol/kafka-headers';
import { ReplyRelay } from '../../src/relay/reply-relay';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import type { ReplyStore } from '../../src/exchange/reply-store';
import { createTopics, testKafka } from '../support/gateway-fixture';
import type { RedisClient } from '../../src/redis/redis-connections';
import { countExisting, testRedis } from '../support/test-redis';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/**
 * When the relay commits reply-topic offsets: only after Redis acknowledged the replies, on its own
 * timer instead of after every batch, and everything done before it leaves the group.
 */
describe('integration: relay offset commits', function () {
  this.timeout(120_000);

  let stack: TestStack;
  let kafka: Kafka;
  let producer: Producer;
  let redis: RedisClient;
  const relays: ReplyRelay[] = [];

  before(async function () {
    stack = await useTestStack();
    kafka = testKafka(stack);
    producer = kafka.producer();
    await producer.connect();
    redis = await testRedis(stack);
  });

  after(async function () {
    await Promise.all(relays.map((r) => r.stop().catch(() => undefined)));
    await producer?.disconnect();
    redis?.disconnect();
  });

  async function setUp(
    store: (prefix: string) => ReplyStore,
    commitIntervalMs: number,
  ): Promise<{ topic: string; groupId: string; prefix: string; relay: ReplyRelay }> {
    const topic = unique('relay.commits');
    const groupId = unique('relay-commits');
    const prefix = `${unique('rc')}:`;
    await createTopics(stack, [topic], 2);
    const relay = new ReplyRelay(
      kafka,
      store(prefix),
      { replyTopic: topic, groupId, maxReplyBytes: 1024 * 1024, commitIntervalMs },
      new GatewayMetrics(),
      silentLogger(),
    );
    relays.push(relay);
    await relay.start();
    return { topic, groupId, prefix, relay };
  }

  async function sendReplies(topic: string, count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => newCorrelationId('relaycommits'));
    await producer.send({
      topic,
      messages: ids.map((id, i) => ({
        key: String(i),
        value: `{"n":${i}}`,
        headers: { [RG_HEADERS.correlationId]: id },
      })),
    });
    return ids;
  }

  /** Committed offsets of the group, summed over partitions (-1 counts as 0). */
  async function committed(groupId: string, topic: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    } finally {
      await admin.disconnect();
    }
  }

  const realStore = (prefix: string): ReplyStore => new RedisReplyStore(redis, prefix, 60_000);

  it('commits every stored reply on its interval', async function () {
    const { topic, groupId, prefix } = await setUp(realStore, 100);
    const ids = await sendReplies(topic, 20);
    await waitFor(
      async () =>
        (await countExisting(
          redis,
          ids.map((id) => `${prefix}reply:${id}`),
        )) === 20,
      30_000,
      'replies',
    );
    await waitFor(async () => (await committed(groupId, topic)) === 20, 30_000, 'commits of all 20 offsets');
  });

  it('never commits an offset whose reply Redis did not take', async function () {
    let attempts = 0;
    const refusing = (prefix: string): ReplyStore => {
      const real = realStore(prefix);
      return {
        keyOf: (id) => real.keyOf(id),
        readReply: (id) => real.readReply(id),
        readReplies: (ids) => real.readReplies(ids),
        writeReplies: async () => {
          attempts++;
          throw new Error('Redis refuses writes');
        },
      };
    };
    const { topic, groupId } = await setUp(refusing, 50);
    await sendReplies(topic, 5);
    await waitFor(() => attempts >= 3, 30_000, 'write attempts');
    await new Promise((r) => setTimeout(r, 300)); // several commit intervals
    expect(await committed(groupId, topic)).to.equal(0);
  });

  it('commits what it stored before leaving the group, even with a long interval', async function () {
    const { topic, groupId, prefix, relay } = await setUp(realStore, 3_600_000);
    const ids = await sendReplies(topic, 10);
    await waitFor(
      async () =>
        (await countExisting(
          redis,
          ids.map((id) => `${prefix}reply:${id}`),
        )) === 10,
      30_000,
      'replies',
    );
    expect(await committed(groupId, topic)).to.equal(0); // the hour-long interval has not come round
    await relay.stop();
    expect(await committed(groupId, topic)).to.equal(10);
  });

  it('commits what it stored when its group starts rebalancing (a second relay joins), with a long interval', async function () {
    const { topic, groupId, prefix, relay } = await setUp(realStore, 3_600_000);
    const ids = await sendReplies(topic, 10);
    await waitFor(
      async () =>
        (await countExisting(
          redis,
          ids.map((id) => `${prefix}reply:${id}`),
        )) === 10,
      30_000,
      'replies',
    );
    expect(await committed(groupId, topic)).to.equal(0); // the hour-long interval has not come round
    // A second relay of the same group, also with an hour-long interval: its joining makes the
    // group rebalance; the first relay's REBALANCING flush is the only commit that can happen.
    const second = new ReplyRelay(
      kafka,
      realStore(prefix),
      { replyTopic: topic, groupId, maxReplyBytes: 1024 * 1024, commitIntervalMs: 3_600_000 },
      new GatewayMetrics(),
      silentLogger(),
    );
    relays.push(second);
    await second.start();
    await waitFor(async () => (await committed(groupId, topic)) === 10, 30_000, 'commits of the 10 stored replies');
    expect(relay.ready, 'the first relay still in the group (nothing committed by leaving)').to.equal(true);
  });
});
