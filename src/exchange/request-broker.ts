import { EventWaitersFullError } from '../errors/event-errors';
import { PublishFailedError } from '../errors/reply-errors';
import type { Logger } from '../observability/logger';
import { LogBurst } from '../observability/log-burst';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import { parseCorrelationId } from '../protocol/correlation-id';
import type { ReplyNotifier } from './reply-notifier';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import type { CancelWaiter, ParkOptions, PendingOutcome, PendingRegistry, WaitEnd } from './pending-registry';

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
    private readonly notifier?: ReplyNotifier,
    private readonly instanceId?: string,
  ) {
    this.publishFailed = new LogBurst(log, 'publish failed');
  }

  /** One full line per 5 s: an outage fails every request alike (see {@link LogBurst}). */
  private readonly publishFailed: LogBurst;

  /**
   * Publish without parking (an async request: the client fetches the reply later). Throws
   * {@link PublishFailedError} when Kafka did not take it.
   */
  async publishOnly(request: OutgoingRequest): Promise<void> {
    try {
      await this.publisher.publish(request);
    } catch (err) {
      if (err instanceof EventWaitersFullError) throw err;
      this.metrics.publishErrors.inc({ route: request.route });
      this.publishFailed.warn({ err, correlationId: request.correlationId, topic: request.topic });
      throw new PublishFailedError(request.topic, { cause: err, correlationId: request.correlationId });
    }
  }

  /**
   * Wait for the reply of a request published earlier, possibly by another replica (an idempotent
   * retry, or a long-poll with `options.watcher`). Watches that id's key when it is another
   * replica's, then reads once, since the reply may already be stored.
   */
  async follow(
    correlationId: string,
    timeoutMs: number,
    route: string,
    onPark?: (cancel: CancelWaiter) => void,
    options: ParkOptions = {},
  ): Promise<PendingOutcome> {
    const foreign = parseCorrelationId(correlationId)?.instanceId !== this.instanceId;
    if (foreign) await this.notifier?.watch(correlationId);
    try {
      const outcome = this.registry.park(correlationId, timeoutMs, route, onPark, options);
      this.setGauges();
      this.registry.notify(correlationId);
      return await outcome;
    } finally {
      if (foreign) this.notifier?.unwatch(correlationId);
      this.setGauges();
    }
  }

  private setGauges(): void {
    this.metrics.pending.set(this.registry.size);
    this.metrics.watchers.set(this.registry.watchers);
  }

  /**
   * Park `request`, then publish it. `attempt` is told how Kafka took it (`acknowledged`, `error`)
   * and then, once, how the wait ended (reply, deadline or cancel; after a failed publish, the
   * cancel `publish-failed`). Returns the waiter's cancel, for when the client goes away. Holds
   * neither the request nor a promise or closure while it waits: the registry's waiter and `attempt`.
   */
  parkAndPublish(request: OutgoingRequest, timeoutMs: number, attempt: PublishAttempt): CancelWaiter {
    const { correlationId } = request;
    const cancel = this.registry.parkWaiter(correlationId, timeoutMs, request.route, attempt);
    this.metrics.pending.set(this.registry.size);
    let sent: Promise<void>;
    try {
      sent = this.publisher.publish(request);
    } catch (err) {
      sent = Promise.reject(err);
    }
    // The callbacks see the attempt and the id, not `request` (whose body would stay reachable).
    sent.then(
      () => {
        attempt.acknowledged = true;
      },
      (err: unknown) => this.failedPublish(attempt, err),
    );
    return cancel;
  }

  private failedPublish(attempt: PublishAttempt, err: unknown): void {
    attempt.error = err;
    this.metrics.publishErrors.inc({ route: attempt.route.name });
    this.publishFailed.warn({ err, correlationId: attempt.correlationId, topic: attempt.route.topic });
    this.registry.cancel(attempt.correlationId, 'publish-failed');
  }

  /** A parked exchange ended: the pending gauge follows. */
  waitOver(): void {
    this.metrics.pending.set(this.registry.size);
  }
}

/** Where a request was published: its route's name and topic (a `RouteDefinition` is one). */
export interface PublishTarget {
  readonly name: string;
  readonly topic: string;
}

/**
 * One published request's wait, told how Kafka took the request, then how the wait ended
 * ({@link ended}, once). Subclassed by whoever answers it (see `awaitReply`).
 */
export abstract class PublishAttempt<R extends PublishTarget = PublishTarget> implements WaitEnd {
  acknowledged = false;
  error: unknown = undefined;

  constructor(
    readonly correlationId: string,
    readonly route: R,
  ) {}

  abstract ended(outcome: PendingOutcome): void;

  /** The wait's outcome, or the error it stands for. */
  protected checked(result: PendingOutcome): PendingOutcome {
    // An event route refused the waiter before anything was published: the caller's 429, not a 503.
    if (this.error instanceof EventWaitersFullError) throw this.error;
    // The park's deadline and the publisher's deadline fall at the same instant; when the deadline
    // passes with the publish still unacknowledged, Kafka never took the request: 503 (retry), not
    // a 504 that blames a service that never saw it.
    const unacknowledged = result.kind === 'timeout' && !this.acknowledged;
    if ((result.kind === 'cancelled' && result.reason === 'publish-failed') || unacknowledged) {
      throw new PublishFailedError(this.route.topic, { cause: this.error, correlationId: this.correlationId });
    }
    return result;
  }
}
