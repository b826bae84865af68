import type { Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';

/** Create a topic if it does not exist yet (an existing topic is left as it is). */
export async function ensureTopic(kafka: Kafka, topic: string, numPartitions: number, log: Logger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
    if (created) log.info({ topic, numPartitions }, 'created topic');
  } finally {
    await admin.disconnect();
  }
}
