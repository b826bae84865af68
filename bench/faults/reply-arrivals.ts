import type { Kafka } from 'kafkajs';
import { RG_HEADERS } from '../../src/protocol/kafka-headers';
import { readTopicToEnd } from '../../test/support/topic-messages';

/** Where and when a message with a correlation id landed on a topic (the first time, when several did). */
export interface Landing {
  partition: number;
  /** Its Kafka timestamp (epoch ms). */
  timestamp: number;
  /** How many messages carried this correlation id (more than one: published or replied twice). */
  copies: number;
}

/**
 * Every message of `topic` carrying `rg-correlation-id` (requests and replies both do), by
 * correlation id: read from the beginning with a throw-away group up to the end offsets of now.
 */
export async function topicLandings(kafka: Kafka, topic: string, timeoutMs = 30_000): Promise<Map<string, Landing>> {
  const landings = new Map<string, Landing>();
  await readTopicToEnd(
    kafka,
    topic,
    (partition, message) => {
      const id = message.headers?.[RG_HEADERS.correlationId]?.toString();
      if (id === undefined) return;
      const seen = landings.get(id);
      if (seen === undefined) landings.set(id, { partition, timestamp: Number(message.timestamp), copies: 1 });
      else seen.copies++;
    },
    { groupPrefix: 'faults-arrivals', timeoutMs },
  );
  return landings;
}

/**
 * When each reply reached the reply topic (its Kafka timestamp, by correlation id). It tells a 504
 * whose reply came too late (the service was slow) from one whose reply was there in time and not
 * delivered.
 */
export async function replyArrivals(
  kafka: Kafka,
  replyTopic: string,
  timeoutMs = 30_000,
): Promise<Map<string, number>> {
  const landings = await topicLandings(kafka, replyTopic, timeoutMs);
  return new Map([...landings].map(([id, l]) => [id, l.timestamp]));
}
