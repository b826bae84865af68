import type { RouteDefinition } from '../config/routes-file';
import { PublishFailedError, UnavailableError } from '../errors/reply-errors';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { OutgoingRequest } from '../protocol/outgoing-request';
import type { DecodedReply } from '../protocol/reply-envelope';
import type { CancelWaiter, PendingOutcome } from './pending-registry';
import type { RequestBroker } from './request-broker';
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

/** Options of {@link awaitReply}. */
export interface AwaitReplyOptions {
  /** Receives the cancel of the parked waiter, for the transport to call when its client goes away. */
  onPark?: (cancel: CancelWaiter) => void;
  decoder: StoredReplyDecoder;
  metrics: GatewayMetrics;
  /** When given, the time from it to the reply is observed in `replygate_reply_latency_seconds`. */
  startedAt?: bigint;
  /** Called when the request could not be published (an idempotency claim to give back). */
  release?: () => Promise<void>;
  /**
   * A deadline at which the reply store could not be read: `unavailable` (503: a reply may exist,
   * retry) or `timeout` (answered as any timeout). HTTP says 503; the WebSocket session has always
   * answered such a deadline as a timeout, and keeps doing so. @defaultValue `unavailable`
   */
  unreadableDeadline?: 'unavailable' | 'timeout';
}

/**
 * Park, publish (or follow) and wait for one reply, then decode it for `route`: written once for
 * HTTP and WebSocket. Throws `PublishFailedError` when Kafka did not take the request,
 * `UnavailableError` when the wait was cancelled (shutdown) or the store was unreadable at the
 * deadline, and `ReplyMalformedError` when the reply cannot be decoded.
 *
 * @example
 * const awaited = await awaitReply(broker, { kind: 'exchange', request }, route, { decoder, metrics });
 */
export function awaitReply(
  broker: RequestBroker,
  wait: WaitFor,
  route: RouteDefinition,
  options: AwaitReplyOptions,
): Promise<AwaitedReply> {
  // No async frame: a parked request holds this chain's one callback, not a suspended function.
  // The callbacks below see the id only: a closure over `wait` would hold the request's message.
  const replyId = wait.kind === 'exchange' ? wait.request.correlationId : wait.replyId;
  if (wait.kind === 'follow') {
    return broker
      .follow(replyId, route.timeoutMs, route.name, options.onPark)
      .then((outcome) => awaitedOf(outcome, replyId, route, options));
  }
  let parked: ReturnType<RequestBroker['parkAndPublish']>;
  try {
    parked = broker.parkAndPublish(wait.request, route.timeoutMs, options.onPark);
  } catch (err) {
    return releaseAndThrow(err, options);
  }
  return parked.outcome.then((result) => {
    let outcome: PendingOutcome;
    try {
      outcome = parked.attempt.outcome(result);
    } catch (err) {
      return releaseAndThrow(err, options);
    }
    return awaitedOf(outcome, replyId, route, options);
  });
}

/** The request was not published: give its idempotency claim back, then fail with `err`. */
async function releaseAndThrow(err: unknown, options: AwaitReplyOptions): Promise<never> {
  await options.release?.().catch(() => undefined);
  throw err;
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
