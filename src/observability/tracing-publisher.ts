import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import type { GatewayTracer } from './gateway-tracer';

/**
 * Wraps a {@link RequestPublisher} in a producer span per publish, child of the request's server
 * span; the request then carries the producer span's ids as its Kafka `traceparent`, so the
 * service's consumer span hangs under the publish. Used only when spans are recorded.
 */
export class TracingPublisher implements RequestPublisher {
  constructor(
    private readonly inner: RequestPublisher,
    private readonly tracer: GatewayTracer,
  ) {}

  get connected(): boolean {
    return this.inner.connected;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  async publish(request: OutgoingRequest): Promise<void> {
    if (request.trace === undefined) return this.inner.publish(request);
    const span = this.tracer.startProducer(`${request.topic} publish`, request.trace, {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'publish',
      'messaging.destination.name': request.topic,
      'messaging.message.conversation_id': request.correlationId,
    });
    try {
      await this.inner.publish({ ...request, trace: span.context });
      span.end();
    } catch (err) {
      span.end(true);
      throw err;
    }
  }
}
