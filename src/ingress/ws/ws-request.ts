import { BodyTooLargeError } from '../../errors/http-errors';
import { ForbiddenError } from '../../errors/auth-errors';
import type { RouteDefinition } from '../../config/routes-file';
import type { RequestBody } from '../../routing/accept-body';
import { buildOutgoingRequest } from '../../routing/build-outgoing-request';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import { assertAccepted, isJsonMediaType } from '../../routing/content-negotiation';
import type { WsRequestFrame } from './ws-frame';

/** The path and query string of a frame's `path`. */
export function splitPath(target: string): { path: string; query: Record<string, unknown> } {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  const query: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (q !== -1) {
    for (const [k, v] of new URLSearchParams(target.slice(q + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...(prev as string[]), v] : [prev as string, v];
    }
  }
  return { path, query };
}

/**
 * Refuse, over WebSocket, routes whose protection lives in the HTTP stages (authentication, rate
 * limits): the socket carries no credentials per frame, and a second door must not be a way around.
 */
export function assertWsAllowed(route: RouteDefinition): void {
  if (route.auth !== 'none' || route.rateLimit !== undefined) {
    throw new ForbiddenError(`Route ${route.name} needs authentication or a rate limit; it is served over HTTP only`);
  }
}

/**
 * The body of one frame, checked as the HTTP handler checks a request's: the route's body limit
 * and accepted types apply. A JSON `body` is sent as `application/json`; a string `body` with a
 * non-JSON `content-type` is sent as that text.
 */
export function frameBody(frame: WsRequestFrame, route: RouteDefinition): RequestBody {
  let contentType = frame.headers['content-type'];
  let bytes = Buffer.alloc(0);
  let parsed: unknown;
  if (frame.body !== undefined && frame.body !== null) {
    if (
      typeof frame.body === 'string' &&
      contentType !== undefined &&
      !isJsonMediaType(contentType.split(';')[0]?.trim())
    ) {
      bytes = Buffer.from(frame.body, 'utf8');
    } else {
      bytes = Buffer.from(JSON.stringify(frame.body), 'utf8');
      parsed = frame.body;
      contentType ??= 'application/json';
    }
    if (bytes.length > route.maxBodyBytes) throw new BodyTooLargeError(route.maxBodyBytes);
    assertAccepted(contentType, route.accepts);
  }
  return { bytes, contentType, parsed };
}

/**
 * The request one frame becomes, as {@link runRequest} builds it for an anonymous caller: the
 * frame's path, query, headers and {@link frameBody} through `buildOutgoingRequest`. Kept for the
 * frame unit tests; the session itself goes through the pipeline.
 */
export function buildWsRequest(
  frame: WsRequestFrame,
  route: RouteDefinition,
  params: Record<string, string>,
  correlationId: string,
  replyTopic: string,
): OutgoingRequest {
  const { path, query } = splitPath(frame.path);
  const body = frameBody(frame, route);
  return buildOutgoingRequest({
    route,
    params,
    correlationId,
    replyTopic,
    method: frame.method,
    path,
    query,
    headers: frame.headers,
    body: body.bytes,
    contentType: body.contentType,
    parsedBody: body.parsed,
  });
}
