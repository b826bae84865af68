import { ReplygateError } from '../errors/replygate-error';
import { replyBodyField } from '../protocol/reply-body';
import type { ReplyRouteRef, StoredReplyDecoder } from '../exchange/stored-reply-decoder';

/**
 * The JSON body POSTed to a callback: `{ correlationId, route, status, headers, body }`, the body
 * as text when the reply is text or JSON, else `bodyBase64`. A reply the gateway cannot use (bad
 * status or headers) is delivered as `{ status: 502, error: "RG_REPLY_MALFORMED" }`, as a waiting
 * HTTP client would have seen it (same decoder, so the same header caps and dropped headers).
 *
 * @example
 * const body = callbackPayload(id, { name: 'createOrder', replyContentType: 'application/json' }, raw, replies);
 */
export function callbackPayload(
  correlationId: string,
  route: ReplyRouteRef,
  raw: Buffer,
  replies: StoredReplyDecoder,
): string {
  try {
    const reply = replies.decode(raw, route);
    return JSON.stringify({
      correlationId,
      route: route.name,
      status: reply.status,
      headers: { ...reply.headers, 'content-type': reply.contentType },
      ...replyBodyField(reply),
    });
  } catch (err) {
    const code = err instanceof ReplygateError ? err.code : 'RG_REPLY_MALFORMED';
    return JSON.stringify({
      correlationId,
      route: route.name,
      status: 502,
      error: code,
      detail: (err as Error).message,
    });
  }
}
