import type { RouteDefinition } from '../config/routes-file';
import { PublishFailedError, UnavailableError } from '../errors/reply-errors';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { OutgoingRequest } from '../protocol/outgoing-request';
import type { DecodedReply } from '../protocol/reply-envelope';
import type { CancelWaiter, PendingOutcome } from './pending-registry';
import { PublishAttempt, type RequestBroker } from './request-broker';
import type { StoredReplyDecoder } from './stored-reply-decoder';

/** What to wait for: publish a request and wait for its reply, or follow one published earlier. */
export type WaitFor = { kind: 'exchange'; request: OutgoingRequest } | { kind: 'follow'; replyId: string };

/** How a wait ended, when it did not throw. */
export type AwaitedReply =
  | { kind: 'reply'; reply: DecodedReply }
  /** The client went away: there is no one to answer. */
  | { kind: 'client-closed' }
  /** The route's deadline passed without a reply (counted in `replygate_timeouts_total`). */
  | { kind: 'timeout'; replyId: string; waitedMs: number };

/** Whoever is told the cancel of a parked wait (the transport's answer, for when its client goes away). */
export interface ParkListener {
  onPark(cancel: CancelWaiter): void;
}

/** Told once how {@link awaitReply} ended: `awaited`, or `awaitFailed` with what to answer. */
export interface AwaitedSink {
  awaited(awaited: AwaitedReply): void;
  awaitFailed(err: unknown): void;
}

/** Options of {@link awaitReply}. */
export interface AwaitReplyOptions {
  /** Receives the cancel of the parked waiter, for the transport to call when its client goes away. */
  onPark?: ParkListener | undefined;
  decoder: StoredReplyDecoder;
  metrics: GatewayMetrics;
  /** When given, the time from it to the reply is observed in `replygate_reply_latency_seconds`. */
  startedAt?: bigint | undefined;
  /** Called when the request could not be published (an idempotency claim to give back). */
  release?: (() => Promise<void>) | undefined;
  /**
   * A deadline at which the reply store could not be read: `unavailable` (503: a reply may exist,
   * retry) or `timeout` (answered as any timeout). HTTP says 503; the WebSocket session has always
   * answered such a deadline as a timeout, and keeps doing so. @defaultValue `unavailable`
   */
  unreadableDeadline?: 'unavailable' | 'timeout' | undefined;
}

/**
 * Park, publish (or follow) and wait for one reply, then decode it for `route`, telling `sink`
 * once: written once for HTTP and WebSocket. `awaitFailed` gets `PublishFailedError` when Kafka
 * did not take the request, `UnavailableError` when the wait was cancelled (shutdown) or the store
 * was unreadable at the deadline, and `ReplyMalformedError` when the reply cannot be decoded.
 *
 * No promise, frame or closure per parked request: the registry's waiter points at one
 * {@link ReplyWait}, which holds the id, the route and `options`, never the request's message.
 *
 * @example
 * awaitReply(broker, { kind: 'exchange', request }, route, { decoder, metrics }, { awaited, awaitFailed });
 */
export function awaitReply(
  broker: RequestBroker,
  wait: WaitFor,
  route: RouteDefinition,
  options: AwaitReplyOptions,
  sink: AwaitedSink,
): void {
  if (wait.kind === 'follow') {
    const following = new ReplyWait(broker, route, wait.replyId, options, sink);
    following.acknowledged = true;
    const onPark = options.onPark;
    broker
      .follow(wait.replyId, route.timeoutMs, route.name, onPark === undefined ? undefined : (c) => onPark.onPark(c))
      .then(
        (outcome) => following.ended(outcome),
        (err: unknown) => sink.awaitFailed(err),
      );
    return;
  }
  const exchange = new ReplyWait(broker, route, wait.request.correlationId, options, sink);
  options.onPark?.onPark(broker.parkAndPublish(wait.request, route.timeoutMs, exchange));
}

/** One parked exchange (or follow): what its answer needs once the wait ends. */
class ReplyWait extends PublishAttempt<RouteDefinition> {
  constructor(
    private readonly broker: RequestBroker,
    route: RouteDefinition,
    replyId: string,
    private readonly options: AwaitReplyOptions,
    private readonly sink: AwaitedSink,
  ) {
    super(replyId, route);
  }

  ended(result: PendingOutcome): void {
    this.broker.waitOver();
    let outcome: PendingOutcome;
    try {
      outcome = this.checked(result);
    } catch (err) {
      // Not published: give the idempotency claim back first, then fail.
      const release = this.options.release;
      if (release === undefined) this.sink.awaitFailed(err);
      else
        void release()
          .catch(() => undefined)
          .then(() => this.sink.awaitFailed(err));
      return;
    }
    let awaited: AwaitedReply;
    try {
      awaited = awaitedOf(outcome, this.correlationId, this.route, this.options);
    } catch (err) {
      this.sink.awaitFailed(err);
      return;
    }
    this.sink.awaited(awaited);
  }
}

/** What a wait's outcome means for the caller (see {@link awaitReply}). */
function awaitedOf(
  outcome: PendingOutcome,
  replyId: string,
  route: RouteDefinition,
  options: AwaitReplyOptions,
): AwaitedReply {
  if (outcome.kind === 'cancelled') {
    if (outcome.reason === 'client-closed') return { kind: 'client-closed' };
    // Shutdown, or a retry that followed a first attempt whose publish failed: answer, never hang.
    if (outcome.reason === 'publish-failed') throw new PublishFailedError(route.topic, { correlationId: replyId });
    throw new UnavailableError(outcome.reason === 'shutdown' ? 'this replica is shutting down' : outcome.reason, {
      correlationId: replyId,
    });
  }
  if (outcome.kind === 'timeout') {
    if (outcome.readFailed === true && (options.unreadableDeadline ?? 'unavailable') === 'unavailable') {
      // Not a slow service: the reply store was unreachable at the deadline, so a reply may
      // exist. 503 (retry, ideally with the same Idempotency-Key) says so; 504 would blame the service.
      throw new UnavailableError('Redis was unreachable at the deadline; the reply could not be read', {
        correlationId: replyId,
      });
    }
    options.metrics.timeouts.inc({ route: route.name });
    return { kind: 'timeout', replyId, waitedMs: outcome.waitedMs };
  }
  if (options.startedAt !== undefined) {
    options.metrics.replyLatency.observe(
      { route: route.name },
      Number(process.hrtime.bigint() - options.startedAt) / 1e9,
    );
  }
  return { kind: 'reply', reply: options.decoder.decode(outcome.raw, route) };
}
