import type { ServerResponse } from 'node:http';
import type { DecodedReply } from '../../protocol/reply-envelope';

/**
 * Puts a reply's headers on the response. `Vary` is appended, not set, so the gateway's own
 * `Vary: Origin` (CORS) survives a service that varies on something else.
 */
export function applyReplyHeaders(res: ServerResponse, reply: DecodedReply): void {
  for (const [name, value] of Object.entries(reply.headers)) {
    if (name === 'vary') res.appendHeader('vary', value);
    else res.setHeader(name, value);
  }
}
