import { ReplygateError } from '../errors';
import { replyBodyField } from '../protocol/reply-body';
import { decodeEnvelope, decodeReply } from '../protocol/reply-envelope';

/**
 * The JSON body POSTed to a callback: `{ correlationId, route, status, headers, body }`, the body
 * as text when the reply is text or JSON, else `bodyBase64`. A reply the gateway cannot use (bad
 * status or headers) is delivered as `{ status: 502, error: "RG_REPLY_MALFORMED" }`, as a waiting
 * HTTP client would have seen it.
 *
 * @example
 * const body = callbackPayload(id, 'createOrder', rawEnvelope, 'application/json');
 */
export function callbackPayload(correlationId: string, route: string, raw: Buffer, defaultContentType: string): string {
  try {
    const reply = decodeReply(decodeEnvelope(raw), defaultContentType);
    return JSON.stringify({
      correlationId,
      route,
      status: reply.status,
      headers: { ...reply.headers, 'content-type': reply.contentType },
      ...replyBodyField(reply),
    });
  } catch (err) {
    const code = err instanceof ReplygateError ? err.code : 'RG_REPLY_MALFORMED';
    return JSON.stringify({ correlationId, route, status: 502, error: code, detail: (err as Error).message });
  }
}
