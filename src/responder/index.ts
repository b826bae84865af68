/**
 * The responder kit, for service authors: `import { createResponder } from 'replygate/responder'`.
 * It consumes the gateway's request topic, hands each request to your handler and publishes the
 * reply with the correlation headers the gateway waits for. Depends on protocol/, errors/ and the
 * Kafka client only, never on gateway internals.
 *
 * @example
 * ```ts
 * import { createResponder } from 'replygate/responder';
 * const responder = createResponder({
 *   brokers: ['localhost:9092'],
 *   topic: 'orders',
 *   groupId: 'orders-service',
 *   handler: async () => ({ status: 200, body: { ok: true } }),
 * });
 * await responder.start();
 * ```
 *
 * @packageDocumentation
 */
export * from '../errors/responder-error';
export * from './request-context';
export * from './responder-options';
export * from './decode-request';
export * from './encode-reply';
export * from './error-reply';
export * from './create-responder';
export * from './send-parts';
export type { Logger } from 'pino';
export { ConfigError } from '../errors/startup-errors';
export { loadKafkaConnection, parseKafkaConnection, KAFKA_CONNECTION_FLAGS } from '../kafka/kafka-client';
export type { KafkaConnectionInput, KafkaConnectionSettings } from '../kafka/kafka-client';
