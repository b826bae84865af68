import type { IncomingHttpHeaders } from 'node:http';
import type { RouteDefinition } from '../config/routes-file';

import type { CallerIdentity } from '../protocol/caller-identity';

/**
 * What every stage sees about the request in hand, whichever transport carried it: no express
 * types, so an HTTP request and a WebSocket frame go through the same stages.
 */
export interface AdmissionContext {
  readonly transport: 'http' | 'ws';
  readonly route: RouteDefinition;
  readonly params: Record<string, string>;
  readonly correlationId: string;
  /** HTTP: the request's headers. WebSocket: the upgrade request's headers (the socket's credential). */
  readonly headers: IncomingHttpHeaders;
  /** HTTP: `req.ip` (as REPLYGATE_TRUST_PROXY resolves it). WebSocket: the socket's remote address. */
  readonly clientIp: string | undefined;
  /** Set a response header (HTTP); a no-op over WebSocket, whose frames carry no headers. */
  setHeader(name: string, value: string): void;
  /** Append to a response header such as `vary` (HTTP); a no-op over WebSocket. */
  appendHeader(name: string, value: string): void;
  /** Set by an authentication stage; `undefined` for anonymous callers. */
  identity?: CallerIdentity;
}

/**
 * One step run after the route matched and before the body is read: authentication, rate limits,
 * CORS. A stage refuses a request by throwing a `ReplygateError` (answered as a problem body), or
 * may add to the context (e.g. `identity`) and set response headers.
 */
export type RequestStage = (ctx: AdmissionContext) => void | Promise<void>;
