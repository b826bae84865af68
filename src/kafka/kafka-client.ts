import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { createKafkaLogCreator } from './kafka-log-creator';

/**
 * A kafkajs client whose logs go through our structured logger (namespace `kafkajs`), with
 * start-up noise at debug and a broker outage said once, not once per retry
 * (see {@link createKafkaLogCreator}). Every kafkajs client replygate builds comes from here.
 */
export function createKafka(brokers: string[], clientId: string, log: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 3000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: createKafkaLogCreator(log, { brokers }),
  });
}
