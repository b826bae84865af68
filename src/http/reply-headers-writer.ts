import type { Response } from 'express';
import type { Logger } from '../logging';
import type { GatewayMetrics } from '../metrics';
import type { DecodedReply } from '../protocol/reply-envelope';

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

/**
 * Counts the headers a service set that only the gateway may set (dropped by `decodeReply`) in
 * `replygate_reply_headers_dropped_total`, and logs each header once per route and process: a
 * service that sets one sets it on every reply, and one line is enough to find it.
 */
export function createDroppedHeaderReporter(
  metrics: GatewayMetrics,
  log: Logger,
): (route: string, reply: DecodedReply) => void {
  const logged = new Set<string>();
  return (route, reply) => {
    for (const { name, family } of reply.droppedHeaders ?? []) {
      metrics.replyHeadersDropped.inc({ family });
      const key = `${route}\n${name}`;
      if (logged.has(key) || logged.size >= 10_000) continue;
      logged.add(key);
      log.warn({ route, header: name, family }, 'service reply set a header only the gateway may set; dropped');
    }
  };
}
