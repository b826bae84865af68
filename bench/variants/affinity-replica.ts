import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Consumer } from 'kafkajs';
import type { GatewayConfig } from '../../src/config/gateway-config';
import type { RouteDefinition } from '../../src/config/routes-file';
import { PendingRegistry } from '../../src/exchange/pending-registry';
import { RequestBroker } from '../../src/exchange/request-broker';
import { createApp } from '../../src/ingress/http/create-app';
import { createGatewayHandler } from '../../src/ingress/http/gateway-handler';
import { RouteMatcher } from '../../src/routing/route-matcher';
import type { Logger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { decodeReplyMessage } from '../../src/relay/reply-decoder';
import { ensureTopic } from '../../src/kafka/ensure-topic';
import { Readiness } from '../../src/observability/readiness';
import { createKafka } from '../../src/kafka/kafka-client';
import { KafkaRequestPublisher } from '../../src/kafka/kafka-request-publisher';

/**
 * The "seed 000" / NestJS-style gateway, for comparison only: the replica consumes its own reply
 * partition and settles parked requests straight from Kafka, no Redis at all. Built from the same
 * parts as replygate (HTTP handler, registry, publisher, reply decoder) so that only the reply path
 * differs.
 *
 * The echo responder replies to the topic named in `rg-reply-to` and does not honour a reply
 * partition, so "its own partition" is a one-partition reply topic per replica
 * (`REPLYGATE_REPLY_TOPIC`): for the broker and the consumer that is the same work as one
 * partition of a shared topic (one partition log, one fetch session), and the same coupling
 * (replies go to the replica that asked, or nowhere).
 */
export class AffinityReplica {
  readonly metrics = new GatewayMetrics();
  readonly registry = new PendingRegistry(async () => null);
  private readonly readiness = new Readiness();
  private readonly publisher: KafkaRequestPublisher;
  private readonly consumer: Consumer;
  private readonly kafka;
  private server: Server | undefined;

  constructor(
    private readonly config: GatewayConfig,
    private readonly routes: RouteDefinition[],
    private readonly log: Logger,
  ) {
    this.kafka = createKafka(config.kafkaBrokers, `${config.kafkaClientId}-${config.instanceId}`, log, config);
    this.publisher = new KafkaRequestPublisher(this.kafka, log, {
      mode: config.producerBatching,
      lingerMs: config.producerLingerMs,
      maxInFlight: config.producerMaxInFlight,
    });
    // Same fetch settings as the replygate relay.
    this.consumer = this.kafka.consumer({
      groupId: `${config.relayGroupId}-${config.instanceId}`,
      maxWaitTimeInMs: 250,
    });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const { config } = this;
    await ensureTopic(this.kafka, config.replyTopic, 1, this.log);
    await this.publisher.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: config.replyTopic, fromBeginning: false });
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const decoded = decodeReplyMessage(message, batch.topic, batch.partition, config.maxReplyBytes);
          if (decoded.ok) this.registry.deliver(decoded.write.correlationId, decoded.write.value);
        }
      },
    });
    await joined;
    const matcher = new RouteMatcher(this.routes);
    const gatewayHandler = createGatewayHandler({
      config,
      matcher: () => matcher,
      broker: new RequestBroker(this.publisher, this.registry, this.metrics, this.log),
      registry: this.registry,
      metrics: this.metrics,
      log: this.log,
      admissionBlocker: () => undefined,
    });
    this.readiness.markStarted();
    const app = createApp({ readiness: this.readiness, metrics: this.metrics, log: this.log, gatewayHandler });
    await new Promise<void>((resolve, reject) => {
      const server = createServer({ ServerResponse: app.ServerResponse }, app);
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
      server.keepAliveTimeout = 65_000;
      this.server = server;
    });
  }

  async stop(): Promise<void> {
    this.registry.cancelAll('shutdown');
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r) ?? r(undefined));
    await this.consumer.disconnect();
    await this.publisher.disconnect();
  }
}
