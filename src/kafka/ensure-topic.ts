import type { Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';

/** Options of {@link ensureTopic}. */
export interface EnsureTopicOptions {
  /** Replicas per partition when the topic is created; -1 takes the broker's default. @defaultValue -1 */
  replicationFactor?: number;
  /** How long to wait for every partition of a new topic to have a leader. @defaultValue 30000 */
  leaderWaitMs?: number;
}

/**
 * Make sure a topic exists. An existing topic is left as it is (only DESCRIBE is needed then, so a
 * principal without CREATE works against a pre-created topic); one with fewer replicas than asked
 * is logged. A missing topic is created, then its metadata polled until every partition has a
 * leader: on a cluster, `createTopics({ waitForLeaders })` may ask a broker that has not heard of
 * the topic yet and fail with UNKNOWN_TOPIC_OR_PARTITION.
 */
export async function ensureTopic(
  kafka: Kafka,
  topic: string,
  numPartitions: number,
  log: Logger,
  options: EnsureTopicOptions = {},
): Promise<void> {
  const replicationFactor = options.replicationFactor ?? -1;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = await describe(admin, topic);
    if (existing !== undefined) {
      const replicas = Math.min(...existing.map((p) => p.replicas.length));
      if (replicationFactor > 0 && replicas < replicationFactor) {
        log.warn(
          { topic, replicas, replicationFactor },
          'topic exists with fewer replicas than asked; it is left as it is (raise it with kafka-reassign-partitions)',
        );
      }
      return;
    }
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions, replicationFactor }],
      waitForLeaders: false,
    });
    const deadline = Date.now() + (options.leaderWaitMs ?? 30_000);
    for (;;) {
      const partitions = await describe(admin, topic).catch(() => undefined);
      if (partitions !== undefined && partitions.length > 0 && partitions.every((p) => p.leader >= 0)) break;
      if (Date.now() > deadline) {
        log.warn({ topic }, 'created topic but not every partition has a leader yet; going on');
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (created) log.info({ topic, numPartitions, replicationFactor }, 'created topic');
  } finally {
    await admin.disconnect();
  }
}

type Admin = ReturnType<Kafka['admin']>;

/** The topic's partitions, or undefined when it does not exist. */
async function describe(admin: Admin, topic: string) {
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions;
  } catch (err) {
    if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return undefined;
    throw err;
  }
}
