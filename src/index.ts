/**
 * The gateway's public API: what a program embedding replygate imports as `replygate`.
 * Service authors import `replygate/responder` instead.
 *
 * @example
 * ```ts
 * import { GatewayServer, loadGatewayConfig, loadRoutesFile, createLogger } from 'replygate';
 * const config = loadGatewayConfig(process.env);
 * const routes = config.routesFile === undefined ? undefined : loadRoutesFile(config.routesFile, config);
 * const server = new GatewayServer({ config, routes, log: createLogger('info') });
 * await server.start();
 * ```
 *
 * @packageDocumentation
 */

/** One replica: its lifecycle (`start`, `stop`, `reloadRoutes`) and the roles it serves. */
export { GatewayServer, type GatewayServerOptions, type NotifierParts } from './replica/gateway-server';
/** Gateway settings: parse env and flags into a validated {@link GatewayConfig}. */
export { loadGatewayConfig } from './config/load-config';
/** Validated settings and their raw input shape. */
export type { GatewayConfig, GatewayConfigInput } from './config/gateway-config';
/** Each setting's environment variable and command-line flag. */
export { CONFIG_SOURCES } from './config/config-sources';
/** Kafka TLS/SASL settings shared by the gateway, the responder kit and the tools. */
export {
  loadKafkaConnection,
  parseKafkaConnection,
  kafkaConnectionEnv,
  KAFKA_CONNECTION_FLAGS,
} from './config/load-kafka-connection';
export type { KafkaConnectionInput, KafkaConnectionSettings } from './config/kafka-connection';
export { createKafka } from './kafka/kafka-client';
export type { OauthBearerProviderModule } from './kafka/kafka-security';
export type { OauthBearerProvider, OauthBearerToken } from './kafka/oidc-token-provider';
/** The routes file: load it from disk or parse an already-read document. */
export { loadRoutesFile, parseRoutes, type RouteDefinition } from './config/routes-file';
/** A structured (pino) logger, as every component takes. */
export { createLogger, type Logger } from './observability/logger';
/** The error hierarchy: every class, the code registry and its HTTP statuses. */
export * from './errors/index';
/** The reply store and notifier ports a custom `createNotifier` implements against. */
export type { ReplyStore, ReplyWrite } from './exchange/reply-store';
export type { ReplyNotifier, ReplyNotifierHandlers } from './exchange/reply-notifier';
/** What the gateway publishes for one request, and the port that publishes it. */
export type { OutgoingRequest, RequestPublisher } from './protocol/outgoing-request';
