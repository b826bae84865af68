import type { KafkaMessage } from 'kafkajs';
import { RG_HEADERS, SPRING_HEADERS, headerString, type RawHeaders } from '../protocol/kafka-headers';
import { TRACE_HEADERS, parseTraceparent, type TraceContext } from '../protocol/trace-context';
import type { CallerInfo, QueryValue, RequestContext } from './request-context';
import { ResponderError } from '../errors/responder-error';

/** Where and how to send the reply to one request. */
export interface ReplyAddress {
  /** Topic named by `rg-reply-to` or `kafka_replyTopic`. */
  topic: string;
  /** Correlation id to put in `rg-correlation-id`. */
  correlationId: string;
  /**
   * The raw `kafka_correlationId` bytes when the request carried no `rg-correlation-id`
   * (a Spring or NestJS requester): echoed byte for byte, since Spring sends a binary UUID.
   */
  springCorrelationId: Buffer | undefined;
  /** The request's W3C trace context (Kafka `traceparent`/`tracestate`), continued on the reply. */
  trace?: TraceContext;
  /** The request is a scatter-gather: the reply must say so (`rg-gather`) to be kept beside the others. */
  gather?: boolean;
  /**
   * The partition of {@link topic} the requester wants its reply on, when it named one: a Spring
   * or NestJS requester reads its replies from it (`kafka_replyPartition`: a 4-byte big-endian int
   * from Spring, decimal text from NestJS); a replygate replica of role `all` names one its own
   * relay reads (`rg-reply-partition`, decimal), so the reply wakes its request in-process. The
   * reply goes there.
   */
  partition?: number;
}

/** Why a message gets no reply. */
export type SkipReason = 'missing-correlation-id' | 'missing-reply-to' | 'expired';

/** Outcome of {@link decodeRequest}: a request to handle, or the reason to drop the message. */
export type DecodedRequest =
  | { ok: true; context: RequestContext; reply: ReplyAddress }
  | {
      ok: false;
      reason: SkipReason;
      /** Correlation id, when the message had one (for logs). */
      correlationId: string | undefined;
      /** The deadline that passed, for `expired`. */
      deadline: number | undefined;
    };

const EMPTY = Buffer.alloc(0);

/**
 * Read a request off a Kafka message without touching Kafka: pure, so it can be unit-tested.
 * Prefers the native `rg-*` headers and falls back to Spring/NestJS `kafka_correlationId` and
 * `kafka_replyTopic`. Malformed `rg-params`, `rg-query` or `rg-headers` read as `{}`; a malformed
 * `rg-deadline` reads as no deadline.
 *
 * @param now epoch ms the message is taken at; a request whose deadline is at or before it is `expired`
 *
 * @example
 * const decoded = decodeRequest(message);
 * if (decoded.ok) await handler(decoded.context);
 */
export function decodeRequest(message: KafkaMessage, now: number = Date.now()): DecodedRequest {
  const h: RawHeaders | undefined = message.headers;
  let correlationId = headerString(h, RG_HEADERS.correlationId);
  let springCorrelationId: Buffer | undefined;
  if (correlationId === undefined || correlationId === '') {
    springCorrelationId = headerBuffer(h, SPRING_HEADERS.correlationId);
    correlationId = springCorrelationId === undefined ? undefined : printableId(springCorrelationId);
  }
  const deadline = parseDeadline(headerString(h, RG_HEADERS.deadline));
  if (correlationId === undefined || correlationId === '') {
    return { ok: false, reason: 'missing-correlation-id', correlationId: undefined, deadline };
  }
  const topic = nonEmpty(headerString(h, RG_HEADERS.replyTo)) ?? nonEmpty(headerString(h, SPRING_HEADERS.replyTopic));
  if (topic === undefined) return { ok: false, reason: 'missing-reply-to', correlationId, deadline };
  if (deadline !== undefined && deadline <= now) return { ok: false, reason: 'expired', correlationId, deadline };

  const context = new DecodedContext(
    correlationId,
    nonEmpty(headerString(h, RG_HEADERS.route)),
    nonEmpty(headerString(h, RG_HEADERS.method))?.toUpperCase(),
    nonEmpty(headerString(h, RG_HEADERS.path)),
    stringRecord(headerString(h, RG_HEADERS.params)),
    queryRecord(headerString(h, RG_HEADERS.query)),
    stringRecord(headerString(h, RG_HEADERS.headers)),
    nonEmpty(headerString(h, RG_HEADERS.contentType)),
    message.value ?? EMPTY,
    deadline,
    callerInfo(h),
  );
  const reply: ReplyAddress = { topic, correlationId, springCorrelationId };
  const partition =
    replyPartition(headerBuffer(h, RG_HEADERS.replyPartition)) ??
    replyPartition(headerBuffer(h, SPRING_HEADERS.replyPartition));
  if (partition !== undefined) reply.partition = partition;
  const trace = parseTraceparent(headerString(h, TRACE_HEADERS.traceparent), headerString(h, TRACE_HEADERS.tracestate));
  if (trace !== undefined) reply.trace = trace;
  if (headerString(h, RG_HEADERS.gather) !== undefined) reply.gather = true;
  return { ok: true, context, reply };
}

class DecodedContext implements RequestContext {
  private parsed: { value: unknown } | undefined;

  constructor(
    readonly correlationId: string,
    readonly route: string | undefined,
    readonly method: string | undefined,
    readonly path: string | undefined,
    readonly params: Record<string, string>,
    readonly query: Record<string, QueryValue>,
    readonly headers: Record<string, string>,
    readonly contentType: string | undefined,
    readonly body: Buffer,
    readonly deadline: number | undefined,
    readonly identity: CallerInfo | undefined,
  ) {}

  json<T = unknown>(): T {
    if (this.parsed === undefined) {
      if (this.body.length === 0) {
        throw new ResponderError(400, 'Request body is empty; expected JSON', undefined, { code: 'INVALID_JSON' });
      }
      try {
        this.parsed = { value: JSON.parse(this.body.toString('utf8')) };
      } catch (cause) {
        throw new ResponderError(400, 'Request body is not valid JSON', undefined, { code: 'INVALID_JSON', cause });
      }
    }
    return this.parsed.value as T;
  }
}

/** The `rg-auth-*` headers as a caller, when the gateway set them. */
function callerInfo(h: RawHeaders | undefined): CallerInfo | undefined {
  const subject = nonEmpty(headerString(h, RG_HEADERS.authSubject));
  const method = headerString(h, RG_HEADERS.authMethod);
  if (subject === undefined || (method !== 'apiKey' && method !== 'jwt')) return undefined;
  const scopes = (headerString(h, RG_HEADERS.authScopes) ?? '').split(' ').filter((s) => s !== '');
  return { subject, keyId: nonEmpty(headerString(h, RG_HEADERS.authKeyId)), scopes, method };
}

function headerBuffer(headers: RawHeaders | undefined, name: string): Buffer | undefined {
  let value = headers?.[name];
  if (Array.isArray(value)) value = value[0];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/**
 * `rg-reply-partition` and `kafka_replyPartition`: replygate and NestJS send decimal text, Spring a
 * 4-byte big-endian int (whose bytes are never all digits for a real partition number). Anything
 * else reads as none.
 */
function replyPartition(raw: Buffer | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.toString('latin1');
  if (/^\d{1,9}$/.test(text)) return Number(text);
  if (raw.length === 4) {
    const n = raw.readInt32BE(0);
    return n >= 0 ? n : undefined;
  }
  return undefined;
}

/** Spring sends a 16-byte binary UUID: ids that are not printable ASCII are shown as hex. */
function printableId(raw: Buffer): string {
  const text = raw.toString('latin1');
  return /^[\x21-\x7e]*$/.test(text) ? text : raw.toString('hex');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function parseDeadline(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

function parseObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined || text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/**
 * Keep the entries whose values pass `valid`. The parsed object is returned as-is when every value
 * passes (the common case, no copy); otherwise the copy has no prototype, so a `__proto__` key
 * stays a plain entry.
 */
function filterRecord<V>(obj: Record<string, unknown> | undefined, valid: (v: unknown) => v is V): Record<string, V> {
  if (obj === undefined) return {};
  const keys = Object.keys(obj);
  if (keys.every((k) => valid(obj[k]))) return obj as Record<string, V>;
  const out = Object.create(null) as Record<string, V>;
  for (const k of keys) {
    const v = obj[k];
    if (valid(v)) out[k] = v;
  }
  return out;
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

function isQueryValue(v: unknown): v is QueryValue {
  return typeof v === 'string' || (Array.isArray(v) && v.every(isString));
}

function stringRecord(text: string | undefined): Record<string, string> {
  return filterRecord(parseObject(text), isString);
}

function queryRecord(text: string | undefined): Record<string, QueryValue> {
  return filterRecord(parseObject(text), isQueryValue);
}
