import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import { PublisherWrapper } from '../protocol/publisher-wrapper';
import type { GatewayTracer } from './gateway-tracer';

/**
 * Wraps a {@link RequestPublisher} in a producer span per publish, child of the request's server
 * span; the request then carries the producer span's ids as its Kafka `traceparent`, so the
 * service's consumer span hangs under the publish. Used only when spans are recorded.
 */
export class TracingPublisher extends PublisherWrapper {
  constructor(
    inner: RequestPublisher,
    private readonly tracer: GatewayTracer,
  ) {
    super(inner);
  }

  override async publish(request: OutgoingRequest): Promise<void> {
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
