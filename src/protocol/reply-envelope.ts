import { ReplyMalformedError } from '../errors/reply-errors';
import {
  DEFAULT_REPLY_HEADER_LIMITS,
  filterReplyHeaders,
  HEADER_VALUE,
  type DroppedHeader,
  type ReplyHeaderLimits,
} from './reply-headers';

/**
 * What the relay stores in Redis for one reply: the raw facts it read off the Kafka message.
 * The relay does no interpretation (so it stays cheap and route-agnostic); the reader validates.
 */
export interface ReplyEnvelopeMeta {
  /** Correlation id the reply carried. */
  id: string;
  /** Raw status header value, when the replier sent one (native dialect). */
  status?: string;
  /** Raw JSON of extra response headers (native dialect `rg-headers`). */
  headers?: string;
  /** Content type of the body, when the replier said it. */
  contentType?: string;
  /** Error text of a NestJS-dialect reply (`kafka_nest-err`). */
  error?: string;
  /** Sequence number of a streamed reply part. */
  seq?: number;
  /** Whether this streamed part is the last. */
  final?: boolean;
  /** W3C `traceparent` the reply carried (the service's span), passed on to the HTTP response. */
  traceparent?: string;
  /** W3C `tracestate` the reply carried. */
  tracestate?: string;
  /** Epoch ms at which the relay read the reply. */
  receivedAt: number;
  /** Where the reply was read from, for tracing a reply back to Kafka. */
  topic: string;
  partition: number;
  offset: string;
}

/** A stored reply as a whole: meta plus the raw body bytes exactly as the service sent them. */
export interface ReplyEnvelope {
  meta: ReplyEnvelopeMeta;
  body: Buffer;
}

/** A reply decoded and validated, ready to become an HTTP response. */
export interface DecodedReply {
  status: number;
  headers: Record<string, string>;
  contentType: string;
  body: Buffer;
  receivedAt: number;
  /** The reply's W3C `traceparent`, unvalidated (the HTTP layer checks it belongs to the request's trace). */
  traceparent?: string;
  /** Headers the service set that only the gateway may set, left out of `headers` (see `filterReplyHeaders`). */
  droppedHeaders?: readonly DroppedHeader[];
}

const MAGIC = Buffer.from('rg1\n');
const NEWLINE = 0x0a;

/**
 * Encode an envelope as `rg1\n<meta JSON>\n<body bytes>`. The body is stored raw, never escaped
 * into JSON, so large and binary replies cost one copy.
 */
export function encodeEnvelope(envelope: ReplyEnvelope): Buffer {
  const meta = Buffer.from(JSON.stringify(envelope.meta));
  return Buffer.concat([MAGIC, meta, Buffer.from([NEWLINE]), envelope.body]);
}

/** Decode a stored envelope; throws {@link ReplyMalformedError} when it is not one. */
export function decodeEnvelope(raw: Buffer): ReplyEnvelope {
  if (raw.length < MAGIC.length + 3 || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ReplyMalformedError('stored reply has no rg1 envelope header');
  }
  const end = raw.indexOf(NEWLINE, MAGIC.length);
  if (end < 0) throw new ReplyMalformedError('stored reply envelope is truncated');
  let meta: unknown;
  try {
    meta = JSON.parse(raw.subarray(MAGIC.length, end).toString('utf8'));
  } catch (cause) {
    throw new ReplyMalformedError('stored reply envelope meta is not JSON', { cause });
  }
  if (!isMeta(meta)) throw new ReplyMalformedError('stored reply envelope meta has the wrong shape');
  return { meta, body: raw.subarray(end + 1) };
}

function isMeta(value: unknown): value is ReplyEnvelopeMeta {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['id'] === 'string' &&
    typeof v['receivedAt'] === 'number' &&
    optionalString(v['status']) &&
    optionalString(v['headers']) &&
    optionalString(v['contentType']) &&
    optionalString(v['error']) &&
    optionalString(v['traceparent']) &&
    optionalString(v['tracestate'])
  );
}

function optionalString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/**
 * Turn a stored envelope into a response. Throws {@link ReplyMalformedError} (→ 502) when the
 * service sent a status or headers the gateway cannot answer with, or more headers than `limits`.
 * Headers only the gateway may set are dropped and listed in `droppedHeaders`.
 *
 * @param defaultContentType content type to use when the replier did not send one (route setting)
 * @param limits REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES
 */
export function decodeReply(
  envelope: ReplyEnvelope,
  defaultContentType: string,
  limits: ReplyHeaderLimits = DEFAULT_REPLY_HEADER_LIMITS,
): DecodedReply {
  const { meta, body } = envelope;
  const correlationId = meta.id;
  let status = 200;
  if (meta.error !== undefined) {
    status = nestErrorStatus(meta.error);
    const errorBody = Buffer.from(JSON.stringify(nestErrorBody(meta.error)));
    return { status, headers: {}, contentType: 'application/json', body: errorBody, receivedAt: meta.receivedAt };
  }
  if (meta.status !== undefined) {
    if (!/^[1-5][0-9]{2}$/.test(meta.status.trim())) {
      throw new ReplyMalformedError(`status header "${meta.status.slice(0, 32)}" is not an HTTP status`, {
        correlationId,
      });
    }
    status = Number(meta.status.trim());
    if (status < 200) {
      throw new ReplyMalformedError(`status ${status} cannot end a request`, { correlationId });
    }
  }
  let headers: Record<string, string> = {};
  let dropped: DroppedHeader[] = [];
  if (meta.headers !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(meta.headers);
    } catch (cause) {
      throw new ReplyMalformedError('rg-headers is not JSON', { correlationId, cause });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ReplyMalformedError('rg-headers is not a JSON object', { correlationId });
    }
    ({ headers, dropped } = filterReplyHeaders(parsed as Record<string, unknown>, limits, correlationId));
  }
  const contentType = meta.contentType ?? defaultContentType;
  if (!HEADER_VALUE.test(contentType)) {
    throw new ReplyMalformedError('content-type is invalid', { correlationId });
  }
  const reply: DecodedReply = { status, headers, contentType, body, receivedAt: meta.receivedAt };
  if (meta.traceparent !== undefined) reply.traceparent = meta.traceparent;
  if (dropped.length > 0) reply.droppedHeaders = dropped;
  return reply;
}

/** NestJS errors are `RpcException` payloads: a string, or an object that may carry a status. */
function nestErrorStatus(error: string): number {
  const parsed = tryJson(error);
  if (typeof parsed === 'object' && parsed !== null) {
    const obj = parsed as Record<string, unknown>;
    for (const field of ['status', 'statusCode']) {
      const s = obj[field];
      if (typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599) return s;
    }
  }
  return 500;
}

function nestErrorBody(error: string): unknown {
  const parsed = tryJson(error);
  if (typeof parsed === 'object' && parsed !== null) return parsed;
  return { message: typeof parsed === 'string' ? parsed : error };
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
