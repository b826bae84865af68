import type { Kafka } from 'kafkajs';

/**
 * How many messages on `topic` carry the Kafka key `key`, reading every partition from the
 * beginning up to its end offset of now with a throw-away group. Tells "published once" apart from
 * "handled once": a service may legitimately handle a message twice (at-least-once redelivery after
 * a rebalance), a gateway must not publish it twice.
 */
export async function countMessagesWithKey(
  kafka: Kafka,
  topic: string,
  key: string,
  timeoutMs = 20_000,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high) - 1n]));
  if (remaining.size === 0) return 0;
  let count = 0;
  const consumer = kafka.consumer({ groupId: `test-count-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (message.key?.toString() === key) count++;
          const last = remaining.get(partition);
          if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      });
    });
    const timedOut = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`did not read ${topic} to its end within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    await Promise.race([done, timedOut]);
  } finally {
    await consumer.disconnect();
  }
  return count;
}
