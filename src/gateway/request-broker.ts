import { PublishFailedError } from '../errors';
import type { Logger } from '../logging';
import type { GatewayMetrics } from '../metrics';
import type { OutgoingRequest, RequestPublisher } from '../transport/request-publisher';
import type { PendingOutcome, PendingRegistry } from './pending-registry';

/**
 * One request-reply exchange: park, publish, wait. Parking comes first so that a reply fast
 * enough to land before the produce acknowledgement still finds its waiter.
 */
export class RequestBroker {
  constructor(
    private readonly publisher: RequestPublisher,
    private readonly registry: PendingRegistry,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * Publish `request` and wait for its reply or its deadline. `onPark` receives a cancel function,
   * for the caller to call when the client goes away. Throws {@link PublishFailedError} when the
   * request could not be published.
   */
  async exchange(
    request: OutgoingRequest,
    timeoutMs: number,
    onPark?: (cancel: (reason: string) => void) => void,
  ): Promise<PendingOutcome> {
    const { correlationId } = request;
    const outcome = this.registry.park(correlationId, timeoutMs, request.route);
    this.metrics.pending.set(this.registry.size);
    onPark?.((reason) => this.registry.cancel(correlationId, reason));
    let publishError: unknown;
    this.publisher.publish(request).catch((err: unknown) => {
      publishError = err;
      this.metrics.publishErrors.inc({ route: request.route });
      this.log.warn({ err, correlationId, topic: request.topic }, 'publish failed');
      this.registry.cancel(correlationId, 'publish-failed');
    });
    const result = await outcome;
    this.metrics.pending.set(this.registry.size);
    if (result.kind === 'cancelled' && result.reason === 'publish-failed') {
      throw new PublishFailedError(request.topic, { cause: publishError, correlationId });
    }
    return result;
  }
}
