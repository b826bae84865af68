import { randomUUID } from 'node:crypto';
import { createKafka, type KafkaConnectionSettings, type Logger } from 'replygate';
import { EVENT_SAMPLE_TOPICS, orderEvents, userCreated, type DomainEvent } from './event-handlers';

/** The event samples by name: the command topic each reads and what it makes of a command. */
export const EVENT_SAMPLES = {
  users: {
    commandTopic: EVENT_SAMPLE_TOPICS.userCommands,
    handle: (c: unknown) => userCreated(c, () => `u-${randomUUID()}`),
  },
  orders: { commandTopic: EVENT_SAMPLE_TOPICS.orderCommands, handle: orderEvents },
} as const satisfies Record<string, { commandTopic: string; handle: (command: unknown) => DomainEvent[] }>;

/** Name of an event sample. */
export type EventSampleName = keyof typeof EVENT_SAMPLES;

/** A running event sample. */
export interface EventSampleService {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A plain Kafka service for event-driven routes: reads JSON commands, emits domain events with a
 * plain producer. It copies no header and knows nothing of replygate, like the services of seed
 * 003 (or an outbox with Debezium).
 *
 * @example
 * const orders = createEventSampleService('orders', { brokers: ['localhost:9092'], logger });
 * await orders.start();
 */
export function createEventSampleService(
  name: EventSampleName,
  options: { brokers: string[]; connection?: KafkaConnectionSettings; groupId?: string; logger: Logger },
): EventSampleService {
  const sample = EVENT_SAMPLES[name];
  const kafka = createKafka(options.brokers, `replygate-sample-${name}`, options.logger, options.connection);
  const consumer = kafka.consumer({ groupId: options.groupId ?? `replygate-sample-${name}-events` });
  const producer = kafka.producer();
  return {
    async start() {
      await producer.connect();
      await consumer.connect();
      // A new group starts at the beginning: a command sent before it first joined is not skipped.
      await consumer.subscribe({ topic: sample.commandTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          let command: unknown;
          try {
            command = JSON.parse(message.value?.toString('utf8') ?? '');
          } catch {
            options.logger.warn({ offset: message.offset }, 'skipping a command that is not JSON');
            return;
          }
          for (const event of sample.handle(command)) {
            await producer.send({
              topic: event.topic,
              messages: [{ key: event.key, value: JSON.stringify(event.value) }],
            });
          }
        },
      });
    },
    async stop() {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}
