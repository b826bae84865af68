import { Kafka, type KafkaConfig, logLevel as KafkaLogLevel } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { createKafkaLogCreator } from './kafka-log-creator';
import type { KafkaConnectionSettings } from '../config/kafka-connection';
import { envSettingName, type SettingNamer } from '../config/load-kafka-connection';

// The connection settings, for the responder kit (which reaches Kafka only through this file).
export type { KafkaConnectionInput, KafkaConnectionSettings } from '../config/kafka-connection';
export { KAFKA_CONNECTION_FLAGS, loadKafkaConnection, parseKafkaConnection } from '../config/load-kafka-connection';
import { kafkaSecurityOptions } from './kafka-security';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop';

/** An unsecured connection: what `createKafka` uses when given no settings. */
export const PLAINTEXT_CONNECTION: KafkaConnectionSettings = {
  kafkaSecurityProtocol: 'PLAINTEXT',
  kafkaTlsInsecureSkipVerify: false,
};

/**
 * The options of every kafkajs client replygate builds: logs through our structured logger
 * (namespace `kafkajs`), with start-up noise at debug and a broker outage said once, not once per
 * retry (see {@link createKafkaLogCreator}), and the TLS and SASL `connection` settings (see
 * {@link kafkaSecurityOptions}: files are read now, and a bad one throws `ConfigError` naming its
 * setting). The first call also stops kafkajs' idle timer loop ({@link fixKafkajsIdleLoop}).
 */
export function kafkaClientConfig(
  brokers: string[],
  clientId: string,
  log: Logger,
  connection: KafkaConnectionSettings = PLAINTEXT_CONNECTION,
  nameOf: SettingNamer = envSettingName,
): KafkaConfig {
  fixKafkajsIdleLoop();
  return {
    clientId,
    brokers,
    ...kafkaSecurityOptions(connection, log, nameOf),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 3000 },
    logLevel: KafkaLogLevel.WARN,
    logCreator: createKafkaLogCreator(log, { brokers }),
  };
}

/** A kafkajs client with {@link kafkaClientConfig}'s options. Every kafkajs client replygate builds comes from here. */
export function createKafka(
  brokers: string[],
  clientId: string,
  log: Logger,
  connection: KafkaConnectionSettings = PLAINTEXT_CONNECTION,
  nameOf: SettingNamer = envSettingName,
): Kafka {
  return new Kafka(kafkaClientConfig(brokers, clientId, log, connection, nameOf));
}
