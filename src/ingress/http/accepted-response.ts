import { GATEWAY_PATHS } from '../../protocol/gateway-paths';
import type { ServerResponse } from 'node:http';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import { sendJson } from './send-json';

/**
 * The path where a reply can be fetched (and, with `/events`, streamed). It carries no retrieval
 * token: URLs end up in proxy and access logs, so the token travels in `Replygate-Reply-Token`.
 */
export function replyLocation(correlationId: string): string {
  return `${GATEWAY_PATHS.replies}/${encodeURIComponent(correlationId)}`;
}

/**
 * Answer `202 Accepted`: the request is published (or still running after its sync timeout) and
 * its reply can be fetched at `Location` with the retrieval token (`Replygate-Reply-Token`, also
 * in the body), which every fetch needs.
 */
export function sendAccepted(
  res: ServerResponse,
  correlationId: string,
  token: string,
  preferenceApplied: boolean,
): void {
  const location = replyLocation(correlationId);
  res.setHeader(HTTP_HEADERS.correlationId, correlationId);
  res.setHeader('location', location);
  res.setHeader(HTTP_HEADERS.retryAfter, '1');
  res.setHeader('replygate-reply-token', token);
  // The token is a bearer capability: keep it out of shared caches.
  res.setHeader('cache-control', 'no-store');
  if (preferenceApplied) res.setHeader(HTTP_HEADERS.preferenceApplied, 'respond-async');
  sendJson(res, 202, { correlationId, status: 'pending', location, token });
}
