import type { Logger } from 'replygate';
import type { RequestHandler } from 'replygate/responder';
import type { KafkaConnectionInput, Responder } from 'replygate/responder';

/** Options every sample service factory takes. */
export interface SampleServiceOptions {
  /** Kafka bootstrap brokers (`host:port`). */
  brokers: string[];
  /** Kafka TLS/SASL settings (the gateway's names; `loadKafkaConnection(process.env)`). @defaultValue PLAINTEXT */
  connection?: KafkaConnectionInput;
  /** Request topic. @defaultValue the sample's default topic, e.g. `orders.requests` */
  topic?: string;
  /** Consumer group id. @defaultValue `replygate-sample-<name>` */
  groupId?: string;
  /** Structured logger. @defaultValue silent */
  logger?: Logger;
  /** Partitions handled at once. @defaultValue 4 */
  partitionsConsumedConcurrently?: number;
  /** Requests of one partition handled at once, same-key requests in order. @defaultValue 1 */
  perPartitionConcurrency?: number;
}

/** One sample in the {@link SAMPLES} table. */
export interface SampleDefinition {
  /** Builds the service (not started). */
  factory: (options: SampleServiceOptions) => Responder;
  /** Topic the sample consumes unless told otherwise; `routes.yaml` points at it. */
  defaultTopic: string;
  /** Consumer group the sample joins unless told otherwise. */
  defaultGroupId: string;
  /** A fresh handler with empty state, to call without Kafka. */
  createHandler: () => RequestHandler;
}
