import type { GatewayConfig } from '../config/gateway-config';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import { decodeEnvelope, decodeReply, type DecodedReply, type ReplyEnvelope } from '../protocol/reply-envelope';
import type { ReplyHeaderLimits } from '../protocol/reply-headers';

/** What a stored reply is decoded for: the route's name (metrics, logs) and its default content type. */
export interface ReplyRouteRef {
  name: string;
  /** The route's `replyContentType`: used when the service sent no content type. */
  replyContentType: string;
}

/**
 * Turns a stored reply into a response, the same way on every path that answers one (plain
 * request-reply, streamed parts, gathered replies, `/v1/replies` fetches, long-polls and SSE,
 * WebSocket frames, webhook payloads): the configured header caps apply, headers only the
 * gateway may set are dropped and counted, an unusable reply is counted and thrown.
 */
export interface StoredReplyDecoder {
  /**
   * Decode `stored` (raw bytes from Redis, or an envelope already split) for `route`. Throws
   * `ReplyMalformedError` (502) when the reply is unusable, after counting it in
   * `replygate_reply_errors_total{reason="malformed"}`; dropped headers are counted in
   * `replygate_reply_headers_dropped_total{family}` and logged once per route and header.
   */
  decode(stored: Buffer | ReplyEnvelope, route: ReplyRouteRef): DecodedReply;
}

/** Distinct route/header pairs logged at most: a bound on memory, not on counting. */
const MAX_LOGGED = 10_000;

/**
 * The one decoder a replica builds, from REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES
 * (see {@link replyHeaderLimits}), handed to every path that answers a reply, so none of them can
 * fall back to other caps or forget to count.
 *
 * @example
 * const replies = createStoredReplyDecoder({ limits: replyHeaderLimits(config), metrics, log });
 * const reply = replies.decode(raw, route); // throws ReplyMalformedError → 502
 */
export function createStoredReplyDecoder(options: {
  limits: ReplyHeaderLimits;
  metrics: GatewayMetrics;
  log: Logger;
}): StoredReplyDecoder {
  const { limits, metrics, log } = options;
  // A service that sets a forbidden header sets it on every reply: one line per route and header finds it.
  const logged = new Set<string>();
  return {
    decode(stored, route) {
      let reply: DecodedReply;
      try {
        reply = decodeReply(Buffer.isBuffer(stored) ? decodeEnvelope(stored) : stored, route.replyContentType, limits);
      } catch (err) {
        metrics.replyErrors.inc({ reason: 'malformed' });
        throw err;
      }
      for (const { name, family } of reply.droppedHeaders ?? []) {
        metrics.replyHeadersDropped.inc({ family });
        const key = `${route.name}\n${name}`;
        if (logged.has(key) || logged.size >= MAX_LOGGED) continue;
        logged.add(key);
        log.warn(
          { route: route.name, header: name, family },
          'service reply set a header only the gateway may set; dropped',
        );
      }
      return reply;
    },
  };
}

/** The reply header caps a configuration sets (REPLYGATE_MAX_REPLY_HEADERS, REPLYGATE_MAX_REPLY_HEADER_BYTES). */
export function replyHeaderLimits(
  config: Pick<GatewayConfig, 'maxReplyHeaders' | 'maxReplyHeaderBytes'>,
): ReplyHeaderLimits {
  return { maxCount: config.maxReplyHeaders, maxBytes: config.maxReplyHeaderBytes };
}
