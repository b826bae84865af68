import type { IncomingHttpHeaders } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
import type { ReplygateError } from '../../errors/replygate-error';
import type { CancelWaiter } from '../../exchange/pending-registry';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import type { DecodedReply } from '../../protocol/reply-envelope';
import type { TraceContext } from '../../protocol/trace-context';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { RequestBody } from '../../routing/accept-body';

/** One request as a transport hands it to {@link runRequest}: an HTTP request or a WebSocket frame. */
export interface Inbound {
  transport: 'http' | 'ws';
  method: string;
  path: string;
  query: Record<string, unknown>;
  /** The request's own headers: forwarded, partition key, `Prefer`, `Idempotency-Key`, `Callback-Url`. */
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  /** The headers the admission stages read (WebSocket: the upgrade request's, the socket's credential). */
  admissionHeaders: IncomingHttpHeaders;
  clientIp: string | undefined;
  /** The URL an idempotency fingerprint covers (HTTP: `req.originalUrl`). */
  fingerprintUrl: string;
  /** Read and check the body against the route (size, accepted types, JSON). */
  readBody(route: RouteDefinition): Promise<RequestBody>;
  /** The gateway's hop of the trace, sent on to the service. */
  trace?: TraceContext | undefined;
}

/**
 * How one transport answers. Each method returns the status the request is counted under, or
 * `undefined` when it is not counted. HTTP can answer every mode; the WebSocket answers replies
 * and problems only (its pipeline has no gather, stream, async or idempotency registries).
 */
export interface Answer {
  /**
   * Before matching. HTTP answers a CORS preflight and returns its route (counted 204); the
   * WebSocket refuses a frame id already in flight. `undefined`: carry on.
   */
  beforeMatch(matcher: RouteMatcher): RouteDefinition | undefined;
  /** The route matched (HTTP: tracing; WebSocket: back-pressure and its in-flight slot). May refuse. */
  routed(route: RouteDefinition): void;
  setHeader(name: string, value: string): void;
  appendHeader(name: string, value: string): void;
  /** The waiter is parked: `cancel` is for when the client goes away. */
  onPark(cancel: CancelWaiter): void;
  /** The wait for the reply ended, whichever way. */
  waitEnded(): void;
  reply(reply: DecodedReply): string;
  /** The client went away before its reply: the status to count, if any. */
  clientClosed(): string | undefined;
  accepted(replyId: string, token: string, preferenceApplied: boolean): string;
  streamed(request: OutgoingRequest, route: RouteDefinition): Promise<string>;
  gathered(request: OutgoingRequest, route: RouteDefinition & { gather: { count: number } }): Promise<string>;
  problem(err: ReplygateError, correlationId: string): string;
  /** The log message of an unexpected failure. */
  readonly failureMessage: string;
}
