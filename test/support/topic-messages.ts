import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Read every partition of `topic` from the beginning up to its end offsets of now, with a
 * throw-away group, handing each message to `onMessage`. Resolves true once the end is reached,
 * false when `timeoutMs` passed first (what was read by then has been handed over).
 */
export async function readTopicToEnd(
  kafka: Kafka,
  topic: string,
  onMessage: (partition: number, message: KafkaMessage) => void,
  options: { groupPrefix: string; timeoutMs: number },
): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high) - 1n]));
  if (remaining.size === 0) return true;
  const consumer = kafka.consumer({
    groupId: `${options.groupPrefix}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
  });
  await consumer.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<boolean>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          onMessage(partition, message);
          const last = remaining.get(partition);
          if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
          if (remaining.size === 0) resolve(true);
        },
      });
    });
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), options.timeoutMs);
    });
    return await Promise.race([done, timedOut]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

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
  let count = 0;
  const reached = await readTopicToEnd(
    kafka,
    topic,
    (_partition, message) => {
      if (message.key?.toString() === key) count++;
    },
    { groupPrefix: 'test-count', timeoutMs },
  );
  if (!reached) throw new Error(`did not read ${topic} to its end within ${timeoutMs} ms`);
  return count;
}
