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
import { countExisting, deleteEach, testRedis } from '../support/test-redis';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/** Old replies written again by the rewind cost this much each, so re-reading them takes seconds. */
const SLOW_MS_PER_OLD_REPLY = 20;
const OLD_REPLIES = 200;

/**
 * The re-read after Redis lost its data (issue 10, item 3): replies the relay had stored and
 * committed come back from Kafka, and a reply arriving meanwhile is not queued behind them (it
 * used to be: the live consumer itself was sought back a whole reply TTL).
 */
describe('integration: relay rewind after Redis lost its data', function () {
  this.timeout(120_000);

  let stack: TestStack;
  let kafka: Kafka;
  let producer: Producer;
  let redis: RedisClient;
  let relay: ReplyRelay | undefined;

  before(async function () {
    stack = await useTestStack();
    kafka = testKafka(stack);
    producer = kafka.producer();
    await producer.connect();
    redis = await testRedis(stack);
  });

  after(async function () {
    await relay?.stop().catch(() => undefined);

    await producer?.disconnect();
    redis?.disconnect();
  });

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

  const send = (topic: string, ids: string[]) =>
    producer.send({
      topic,
      messages: ids.map((id) => ({ key: null, value: '{}', headers: { [RG_HEADERS.correlationId]: id } })),
    });

  it('restores stored and committed replies, and a fresh reply is written at once meanwhile', async function () {
    const topic = unique('relay.rewind');
    const groupId = unique('relay-rewind');
    const prefix = `${unique('rw')}:`;
    await waitFor(
      () =>
        createTopics(stack, [topic], 1).then(
          () => true,
          () => false,
        ),
      30_000,
      'topic created',
      500,
    );
    const old = Array.from({ length: OLD_REPLIES }, () => newCorrelationId('rewind'));
    const oldSet = new Set(old);
    const real = new RedisReplyStore(redis, prefix, 60_000);
    let slow = false;
    const store: ReplyStore = {
      keyOf: (id) => real.keyOf(id),
      readReply: (id) => real.readReply(id),
      readReplies: (ids) => real.readReplies(ids),
      // Once slow, old replies are written one by one, each after a pause: re-reading them takes
      // seconds and they reappear one after another.
      writeReplies: async (writes) => {
        if (!slow) return real.writeReplies(writes);
        const results: boolean[] = [];
        for (const w of writes) {
          if (oldSet.has(w.correlationId)) await new Promise((r) => setTimeout(r, SLOW_MS_PER_OLD_REPLY));
          results.push(...(await real.writeReplies([w])));
        }
        return results;
      },
    };
    relay = new ReplyRelay(
      kafka,
      store,
      { replyTopic: topic, groupId, maxReplyBytes: 1024 * 1024, commitIntervalMs: 50 },
      new GatewayMetrics(),
      silentLogger(),
    );
    await relay.start();
    await send(topic, old);
    const keys = old.map((id) => `${prefix}reply:${id}`);
    await waitFor(async () => (await countExisting(redis, keys)) === OLD_REPLIES, 30_000, 'old replies stored');
    await waitFor(async () => (await committed(groupId, topic)) === OLD_REPLIES, 30_000, 'old replies committed');

    // Redis lost its data (as after a restart without persistence): only this test's keys go.
    await deleteEach(redis, keys);
    slow = true;
    const rewinding = relay.rewind(kafka, 60_000);
    // The fresh reply comes once the re-read is under way (the first old reply is back).
    await waitFor(async () => (await countExisting(redis, keys)) > 0, 30_000, 'the rewind to start writing');
    const fresh = newCorrelationId('rewind');
    const sentAt = Date.now();
    await send(topic, [fresh]);
    await waitFor(async () => (await redis.exists(`${prefix}reply:${fresh}`)) === 1, 30_000, 'fresh reply stored');
    const freshMs = Date.now() - sentAt;
    const rewriteMs = OLD_REPLIES * SLOW_MS_PER_OLD_REPLY;
    expect(
      freshMs,
      `fresh reply stored after ${freshMs} ms (re-reading the old ones takes ${rewriteMs} ms)`,
    ).to.be.below(rewriteMs / 2);

    await rewinding;
    await waitFor(async () => (await countExisting(redis, keys)) === OLD_REPLIES, 30_000, 'old replies restored');
  });
});
