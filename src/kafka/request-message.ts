import type { IHeaders } from 'kafkajs';
import { NEST_HEADERS, RG_HEADERS, SPRING_HEADERS } from '../protocol/kafka-headers';
import { TRACE_HEADERS, formatTraceparent, type TraceContext } from '../protocol/trace-context';
import type { OutgoingRequest } from '../protocol/outgoing-request';

/**
 * Where a request's reply should come back: a partition of the reply topic, or undefined to leave
 * it to the service (role `all` names one its own relay owns; see `OwnedPartitions`).
 */
export interface ReplyPartitionHint {
  next(): number | undefined;
}

/** The Kafka message for a request: key, value and headers in the route's dialect. */
export interface RequestMessage {
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * Build the Kafka message for a request. Every dialect carries the replygate headers (services may
 * read the deadline, route and HTTP context); Spring and NestJS routes add their own correlation
 * and reply-topic headers, which their repliers copy onto the reply.
 *
 * With `replyPartition`, the request names the reply topic's partition its reply should go to:
 * `rg-reply-partition` (decimal) in every dialect, and `kafka_replyPartition` as Spring writes it
 * (a 4-byte big-endian int) or as NestJS does (decimal text), which their repliers honour.
 *
 * Value: the raw request body. For Spring and NestJS routes a request without a body (a GET)
 * carries a JSON object of its path parameters and query instead, since their handlers receive
 * only the payload.
 */
export function buildRequestMessage(r: OutgoingRequest, replyPartition?: number): RequestMessage {
  const headers: IHeaders = {
    [RG_HEADERS.correlationId]: r.correlationId,
    [RG_HEADERS.replyTo]: r.replyTopic,
    [RG_HEADERS.deadline]: String(r.deadline),
    [RG_HEADERS.route]: r.route,
    [RG_HEADERS.method]: r.method,
    [RG_HEADERS.path]: r.path,
    [RG_HEADERS.params]: JSON.stringify(r.params),
    [RG_HEADERS.query]: JSON.stringify(r.query),
    [RG_HEADERS.headers]: JSON.stringify(withTrace(r.headers, r.trace)),
  };
  if (r.identity !== undefined) {
    headers[RG_HEADERS.authSubject] = r.identity.subject;
    headers[RG_HEADERS.authScopes] = r.identity.scopes.join(' ');
    headers[RG_HEADERS.authMethod] = r.identity.method;
    if (r.identity.keyId !== undefined) headers[RG_HEADERS.authKeyId] = r.identity.keyId;
  }
  if (r.trace !== undefined) {
    // Real Kafka headers, as OpenTelemetry's Kafka instrumentations and Spring's observation read them.
    headers[TRACE_HEADERS.traceparent] = formatTraceparent(r.trace);
    if (r.trace.state !== undefined) headers[TRACE_HEADERS.tracestate] = r.trace.state;
  }
  if (r.gather !== undefined) headers[RG_HEADERS.gather] = String(r.gather);
  if (replyPartition !== undefined) headers[RG_HEADERS.replyPartition] = String(replyPartition);
  let value: Buffer | null = r.body.length > 0 ? r.body : null;
  let contentType = r.contentType;
  if (r.dialect !== 'replygate') {
    const names = r.dialect === 'spring' ? SPRING_HEADERS : NEST_HEADERS;
    headers[names.correlationId] = Buffer.from(r.correlationId);
    headers[names.replyTopic] = Buffer.from(r.replyTopic);
    if (replyPartition !== undefined) {
      headers[names.replyPartition] = r.dialect === 'spring' ? int32(replyPartition) : String(replyPartition);
    }
    if (value === null) {
      value = Buffer.from(JSON.stringify({ ...r.query, ...r.params }));
      contentType = 'application/json';
    }
  }
  if (contentType !== undefined) headers[RG_HEADERS.contentType] = contentType;
  return { key: r.key ?? null, value, headers };
}

/**
 * A forwarded client `traceparent` is replaced by the gateway's own hop, so `rg-headers` and the
 * Kafka header never disagree about the parent span.
 */
function withTrace(headers: Record<string, string>, trace: TraceContext | undefined): Record<string, string> {
  if (trace === undefined || headers[TRACE_HEADERS.traceparent] === undefined) return headers;
  return { ...headers, [TRACE_HEADERS.traceparent]: formatTraceparent(trace) };
}

/** A 4-byte big-endian int, as Spring for Apache Kafka writes `kafka_replyPartition`. */
function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}
