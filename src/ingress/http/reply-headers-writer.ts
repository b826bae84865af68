import type { Response } from 'express';
import type { DecodedReply } from '../../protocol/reply-envelope';

/**
 * Puts a reply's headers on the response. `Vary` is appended, not set, so the gateway's own
 * `Vary: Origin` (CORS) survives a service that varies on something else.
 */
export function applyReplyHeaders(res: Response, reply: DecodedReply): void {
  for (const [name, value] of Object.entries(reply.headers)) {
    if (name === 'vary') res.append('vary', value);
    else res.setHeader(name, value);
  }
}
