import type { IncomingHttpHeaders } from 'node:http';
import type { RouteDefinition } from '../config/routes-file';
import type { OutgoingRequest } from '../protocol/outgoing-request';
import { forwardedHeaders } from './forwarded-headers';
import { buildEventInterest } from './event-interest';
import { requirePartitionKey } from './partition-key';

/** A matched request as both transports hand it over: HTTP requests and WebSocket frames. */
export interface OutgoingRequestParts {
  route: RouteDefinition;
  params: Record<string, string>;
  correlationId: string;
  replyTopic: string;
  method: string;
  path: string;
  query: Record<string, unknown>;
  /** The request's headers; only the route's `forwardHeaders` are published. */
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body's content type; dropped for an empty body. */
  contentType: string | undefined;
  /** The parsed JSON body, when the body is JSON (a partition-key expression may read it). */
  parsedBody: unknown;
}

/**
 * The request to publish: the route's topic, dialect and deadline, forwarded headers and partition
 * key (400 when the route's key expression finds nothing). Written once for HTTP and WebSocket.
 *
 * @example
 * const request = buildOutgoingRequest({ route, params, correlationId, replyTopic, method: 'POST',
 *   path: '/orders', query: {}, headers: req.headers, body, contentType, parsedBody });
 */
export function buildOutgoingRequest(
  parts: OutgoingRequestParts,
  extra: Pick<OutgoingRequest, 'identity' | 'trace'> = {},
): OutgoingRequest {
  const { route, params, query, headers, body } = parts;
  const sources = { params, query, headers, body: parts.parsedBody };
  const key = requirePartitionKey(route, sources);
  const now = Date.now();
  const awaits = buildEventInterest(route, sources, now);
  return {
    topic: route.topic,
    dialect: route.dialect,
    correlationId: parts.correlationId,
    replyTopic: parts.replyTopic,
    deadline: now + route.timeoutMs,
    route: route.name,
    method: parts.method,
    path: parts.path,
    params: { ...params },
    query,
    headers: forwardedHeaders(route, headers),
    contentType: body.length > 0 ? parts.contentType : undefined,
    body,
    key,
    ...(awaits === undefined ? {} : { awaits, publish: route.await?.command !== false }),
    ...extra,
  };
}
