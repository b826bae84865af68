import { ServerResponse } from 'node:http';
import type { CancelWaiter } from '../../exchange/pending-registry';
import { HTTP_HEADERS } from '../../protocol/http-headers';

/**
 * What a response tells the request's observation: the `traceparent` to answer with (asked as the
 * headers are written) and that the exchange is over (the response finished or its client left).
 */
export interface ResponseObservation {
  /** The `traceparent` response header. */
  responseTraceparent(): string;
  /** The response closed, finished or not (`res.writableFinished` says which). */
  closed(res: ServerResponse): void;
}

/**
 * The response of a request to a route. What every such response carries but nobody reads while
 * the request waits for its reply (its `X-Correlation-Id`, its `traceparent`) is held as a field
 * and becomes a header only as the response is written, and one listener shared by every response
 * reports a closed connection. A header entry costs a `[name, value]` pair in node's header table,
 * a `close` listener per concern a closure each: with 100,000 parked requests those add up.
 *
 * Subclassed once per application ({@link installGatewayResponseHooks}); a response of another
 * server's class may be given a subclass' prototype on arrival, so every field is optional.
 */
export class GatewayResponse extends ServerResponse {
  /** Written as `X-Correlation-Id` unless a handler set that header itself (an idempotent replay). */
  correlationId: string | undefined = undefined;
  /** The request's observation (tracing, the request log line). */
  observation: ResponseObservation | undefined = undefined;
  /** Ends the parked wait when the client goes away before its response (the waiter's cancel). */
  abandon: CancelWaiter | undefined = undefined;
}

/** The one `close` listener of every gateway response (`this` is the response). */
function onGatewayResponseClose(this: GatewayResponse): void {
  if (!this.writableEnded) this.abandon?.cancel('client-closed');
  this.abandon = undefined;
  this.observation?.closed(this);
}

/**
 * Starts one request's life on `res`: its correlation id, its observation, the close listener.
 * A response of another class (the express fallback of a target not in origin form) gets the
 * same effect the plain way: the header set now, the listener a closure.
 */
export function openGatewayResponse(
  res: ServerResponse,
  correlationId: string,
  observation: ResponseObservation | undefined,
): void {
  if (res instanceof GatewayResponse) {
    res.correlationId = correlationId;
    res.observation = observation;
    res.on('close', onGatewayResponseClose);
    return;
  }
  res.setHeader(HTTP_HEADERS.correlationId, correlationId);
  if (observation !== undefined) {
    res.setHeader('traceparent', observation.responseTraceparent());
    res.on('close', () => observation.closed(res));
  }
}

/** Cancel the parked wait of `res` when its client goes away before the response is written. */
export function abandonOnClose(res: ServerResponse, cancel: CancelWaiter): void {
  if (res instanceof GatewayResponse) {
    res.abandon = cancel;
    return;
  }
  res.on('close', () => {
    if (!res.writableEnded) cancel.cancel('client-closed');
  });
}

/**
 * Writes a {@link GatewayResponse}'s held fields as headers when its head is written (node calls
 * `writeHead` for an implicit head too). Installed on a per-application subclass' prototype.
 */
export function installGatewayResponseHooks(proto: GatewayResponse): void {
  const writeHead = proto.writeHead;
  proto.writeHead = function writeHeadWithHeldHeaders(this: GatewayResponse, ...args: unknown[]) {
    if (!this.headersSent) {
      const id = this.correlationId;
      if (id !== undefined && !this.hasHeader(HTTP_HEADERS.correlationId)) {
        this.setHeader(HTTP_HEADERS.correlationId, id);
      }
      const observation = this.observation;
      if (observation !== undefined && !this.hasHeader('traceparent')) {
        this.setHeader('traceparent', observation.responseTraceparent());
      }
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as GatewayResponse['writeHead'];
}

/**
 * The correlation id `res` answers under: a header set by a handler (an idempotent replay answers
 * under the first attempt's id), else the one held for it.
 */
export function correlationIdOf(res: ServerResponse): string | undefined {
  const header = res.getHeader(HTTP_HEADERS.correlationId);
  if (header !== undefined) return String(header);
  return res instanceof GatewayResponse ? res.correlationId : undefined;
}
