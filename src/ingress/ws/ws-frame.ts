import { BadRequestError } from '../../errors/http-errors';
import { type ReplygateError } from '../../errors/replygate-error';
import { replyBodyField } from '../../protocol/reply-body';
import type { DecodedReply } from '../../protocol/reply-envelope';

/** A request frame a client sends on `/v1/ws`. */
export interface WsRequestFrame {
  /** The client's id for this request, echoed on the answer (1-128 characters, or a number). */
  id: string | number;
  method: string;
  /** Path and optional query string, e.g. `/orders/42?verbose=1`. */
  path: string;
  headers: Record<string, string>;
  /** JSON value (sent as `application/json`), or a string sent with the frame's `content-type`. */
  body?: unknown;
}

/** A reply frame: the service's answer. */
export interface WsReplyFrame {
  id: string | number;
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON for JSON replies, text for text replies. */
  body?: unknown;
  /** Binary replies, base64. */
  bodyBase64?: string;
}

/** An error frame: the gateway's answer when there is no reply. */
export interface WsErrorFrame {
  id: string | number | null;
  status: number;
  error: string;
  detail: string;
}

const ID = /^[\x21-\x7e]{1,128}$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,128}$/;
/**
 * Control characters a header value may not hold (tab is allowed, as in HTTP). Node's HTTP parser
 * refuses them in a request; over WebSocket the gateway must refuse them itself, or CR/LF would
 * reach services (and any HTTP client they pass the value to) as header splitting.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const HEADER_VALUE_FORBIDDEN = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Validate a text frame as a {@link WsRequestFrame}. Throws {@link BadRequestError}; its
 * `details.id` holds the frame's id when one could be read, so the error frame can name it.
 */
export function parseRequestFrame(text: string): WsRequestFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new BadRequestError('A frame must be a JSON object { id, method, path, headers, body }');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BadRequestError('A frame must be a JSON object { id, method, path, headers, body }');
  }
  const frame = raw as Record<string, unknown>;
  const id = frame['id'];
  const validId = (typeof id === 'string' && ID.test(id)) || (typeof id === 'number' && Number.isSafeInteger(id));
  if (!validId) throw new BadRequestError('id: a string of 1-128 printable characters or an integer');
  const fail = (message: string): never => {
    throw new BadRequestError(message, { details: { id } });
  };
  const method = frame['method'];
  if (typeof method !== 'string' || !/^[A-Za-z]{3,7}$/.test(method)) fail('method: an HTTP method');
  const path = frame['path'];
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 8192) fail('path: an absolute path');
  const headers: Record<string, string> = {};
  const rawHeaders = frame['headers'] ?? {};
  if (typeof rawHeaders !== 'object' || rawHeaders === null || Array.isArray(rawHeaders)) {
    fail('headers: an object of strings');
  }
  for (const [name, value] of Object.entries(rawHeaders as Record<string, unknown>)) {
    // An invalid name is not echoed: it is client input that may hold anything.
    if (!HEADER_NAME.test(name)) fail("headers: names are 1-128 letters, digits or '-'");
    if (typeof value !== 'string') fail(`headers.${name}: a string`);
    if (HEADER_VALUE_FORBIDDEN.test(value as string)) {
      fail(`headers.${name}: control characters (CR, LF, NUL, ...) are not allowed in a header value`);
    }
    headers[name.toLowerCase()] = value as string;
  }
  return {
    id: id as string | number,
    method: (method as string).toUpperCase(),
    path: path as string,
    headers,
    body: frame['body'],
  };
}

/** The reply frame of a decoded reply: JSON bodies parsed, text as text, other types base64. */
export function replyFrame(id: string | number, reply: DecodedReply): WsReplyFrame {
  const headers = { ...reply.headers, 'content-type': reply.contentType };
  return { id, status: reply.status, headers, ...replyBodyField(reply, { parseJson: true }) };
}

/** The error frame of a gateway error. */
export function errorFrame(id: string | number | null, err: ReplygateError): WsErrorFrame {
  return { id, status: err.status, error: err.code, detail: err.message };
}
