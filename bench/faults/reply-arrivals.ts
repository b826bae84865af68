import type { Kafka } from 'kafkajs';
import { RG_HEADERS } from '../../src/protocol/kafka-headers';

/**
 * When each reply reached the reply topic (its Kafka timestamp, by correlation id): read from the
 * beginning with a throw-away group up to the end offsets of now. It tells a 504 whose reply came
 * too late (the service was slow) from one whose reply was there in time and not delivered.
 */
export async function replyArrivals(
  kafka: Kafka,
  replyTopic: string,
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  const arrivals = new Map<string, number>();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(replyTopic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((e) => e.high !== e.low).map((e) => [e.partition, BigInt(e.high) - 1n]));
  if (remaining.size === 0) return arrivals;
  const consumer = kafka.consumer({ groupId: `faults-arrivals-${Date.now()}-${Math.random().toString(36).slice(2)}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: replyTopic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const id = message.headers?.[RG_HEADERS.correlationId]?.toString();
          if (id !== undefined) arrivals.set(id, Number(message.timestamp));
          const last = remaining.get(partition);
          if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      });
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, timeoutMs))]);
  } finally {
    await consumer.disconnect();
  }
  return arrivals;
}
