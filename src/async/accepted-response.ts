import type { Response } from 'express';

/** The path where a reply can be fetched. */
export function replyLocation(correlationId: string): string {
  return `/v1/replies/${encodeURIComponent(correlationId)}`;
}

/**
 * Answer `202 Accepted`: the request is published (or still running after its sync timeout) and
 * its reply can be fetched at `Location` with the retrieval token.
 */
export function sendAccepted(res: Response, correlationId: string, token: string, preferenceApplied: boolean): void {
  const location = replyLocation(correlationId);
  res.status(202);
  res.setHeader('x-correlation-id', correlationId);
  res.setHeader('location', location);
  res.setHeader('retry-after', '1');
  res.setHeader('replygate-reply-token', token);
  if (preferenceApplied) res.setHeader('preference-applied', 'respond-async');
  res.json({ correlationId, status: 'pending', location, token });
}
