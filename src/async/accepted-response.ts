import type { Response } from 'express';

/**
 * The path where a reply can be fetched. With `token`, the retrieval token rides in the query, so
 * a client that simply follows `Location` is authorised; without it the path names no capability.
 */
export function replyLocation(correlationId: string, token?: string): string {
  const path = `/v1/replies/${encodeURIComponent(correlationId)}`;
  return token === undefined ? path : `${path}?token=${encodeURIComponent(token)}`;
}

/**
 * Answer `202 Accepted`: the request is published (or still running after its sync timeout) and
 * its reply can be fetched at `Location` (which carries the retrieval token) or at the plain path
 * with the token in `Replygate-Reply-Token`.
 */
export function sendAccepted(res: Response, correlationId: string, token: string, preferenceApplied: boolean): void {
  const location = replyLocation(correlationId, token);
  res.status(202);
  res.setHeader('x-correlation-id', correlationId);
  res.setHeader('location', location);
  res.setHeader('retry-after', '1');
  res.setHeader('replygate-reply-token', token);
  // The token is a bearer capability: keep it out of shared caches.
  res.setHeader('cache-control', 'no-store');
  if (preferenceApplied) res.setHeader('preference-applied', 'respond-async');
  res.json({ correlationId, status: 'pending', location, token });
}
