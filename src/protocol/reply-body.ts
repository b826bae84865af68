import type { DecodedReply } from './reply-envelope';

/** A reply body in a JSON document: text as `body`, anything binary as `bodyBase64`. */
export type ReplyBodyField = { body?: unknown } | { bodyBase64: string };

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json/i;
const TEXT_TYPE = /^text\//i;

/**
 * How every push and fetch mode (SSE, WebSocket, webhooks, streamed and gathered replies) puts a
 * service's reply body into its own JSON: JSON bodies as text (or parsed, with `parseJson`),
 * other text as text, anything else base64, so binary replies survive.
 */
export function replyBodyField(reply: DecodedReply, options: { parseJson?: boolean } = {}): ReplyBodyField {
  if (JSON_TYPE.test(reply.contentType)) {
    const text = reply.body.toString('utf8');
    if (!options.parseJson) return { body: text };
    if (text === '') return {};
    try {
      return { body: JSON.parse(text) as unknown };
    } catch {
      return { body: text };
    }
  }
  if (TEXT_TYPE.test(reply.contentType)) return { body: reply.body.toString('utf8') };
  return { bodyBase64: reply.body.toString('base64') };
}
