import type { Kafka } from 'kafkajs';
import type { GatewayConfig } from '../config/gateway-config';
import { relayGroupIds } from '../config/relay-groups';
import type { Logger } from './logger';
import type { GatewayMetrics } from './gateway-metrics';
import type { RequestPublisher } from '../protocol/outgoing-request';
import { TracerSlot } from './gateway-tracer';
import { createOtelTracer } from './otel-tracer';
import { RelayLagMonitor } from './relay-lag-monitor';
import { createRequestObserver, type RequestObserver } from './request-observer';
import { TracingPublisher } from './tracing-publisher';
import { UnreadReplies } from './unread-replies';

/** What {@link GatewayObservability} is built from. */
export interface GatewayObservabilityParts {
  config: Pick<
    GatewayConfig,
    | 'instanceId'
    | 'replyTopic'
    | 'relayGroupId'
    | 'relayGroups'
    | 'relayGroupIndex'
    | 'replyTtlMs'
    | 'requestLog'
    | 'relayLagIntervalMs'
    | 'otelEnabled'
    | 'otelEndpoint'
    | 'otelServiceName'
  >;
  kafka: Kafka;
  metrics: GatewayMetrics;
  log: Logger;
  /** Whether this replica relays (then it samples the relay group's lag). */
  relays: boolean;
}

/**
 * The replica's observability beyond `/metrics`: tracing (W3C ids always; OpenTelemetry spans when
 * REPLYGATE_OTEL_ENABLED), the per-request log line, the unread-replies count and the relay lag
 * sampler. One object so the composition root wires it in three lines.
 */
export class GatewayObservability {
  readonly tracer = new TracerSlot();
  /** The gateway handler's per-request hook. */
  readonly observe: RequestObserver;
  /** Hook the pending registry's late replies and abandoned requests into this. */
  readonly unread: UnreadReplies;
  private readonly lag: RelayLagMonitor | undefined;
  private readonly log: Logger;

  constructor(private readonly parts: GatewayObservabilityParts) {
    const { config, metrics } = parts;
    this.log = parts.log.child({ component: 'observability' });
    this.observe = createRequestObserver({
      tracer: this.tracer,
      log: parts.log.child({ component: 'http' }),
      logRequests: config.requestLog,
    });
    this.unread = new UnreadReplies(metrics.repliesUnread, metrics.lateReplyDelay, { rememberMs: config.replyTtlMs });
    if (parts.relays && config.relayLagIntervalMs > 0) {
      this.lag = new RelayLagMonitor(
        parts.kafka,
        { replyTopic: config.replyTopic, groupIds: relayGroupIds(config), intervalMs: config.relayLagIntervalMs },
        metrics.relayLag,
        this.log,
      );
    }
  }

  /** The publisher the broker should use: with a producer span per publish when tracing records. */
  wrapPublisher(publisher: RequestPublisher): RequestPublisher {
    return this.parts.config.otelEnabled ? new TracingPublisher(publisher, this.tracer) : publisher;
  }

  /** Load the OpenTelemetry SDK when enabled, start sampling relay lag. */
  async start(): Promise<void> {
    const { config } = this.parts;
    if (config.otelEnabled) {
      this.tracer.use(
        await createOtelTracer({
          endpoint: config.otelEndpoint,
          serviceName: config.otelServiceName,
          instanceId: config.instanceId,
        }),
      );
      this.log.info({ endpoint: config.otelEndpoint }, 'OpenTelemetry tracing on');
    }
    this.lag?.start();
  }

  /** Flush spans, stop sampling. */
  async stop(): Promise<void> {
    await this.lag?.stop();
    await this.tracer.shutdown().catch((err: unknown) => this.log.warn({ err }, 'span export on stop failed'));
  }
}
