import type { IHeaders } from 'kafkajs';
import { NEST_HEADERS, RG_HEADERS, SPRING_HEADERS } from '../protocol/kafka-headers';
import { TRACE_HEADERS, childContext, formatTraceparent } from '../protocol/trace-context';
import type { ReplyAddress } from './decode-request';
import type { ResponderReply } from './request-context';

/** A reply ready to produce: the Kafka message value and headers (the key is always null). */
export interface EncodedReply {
  value: Buffer;
  headers: IHeaders;
  /** Set for a streamed reply: the handler's reply, whose `parts` are sent one message each. */
  streamed?: ResponderReply;
}

const EMPTY = Buffer.alloc(0);

/**
 * Turn a handler's reply into the Kafka message value and headers: `rg-correlation-id`,
 * `rg-status`, `content-type` (when there is a body) and `rg-headers` (when the handler gave any),
 * plus `kafka_correlationId` and `kafka_nest-is-disposed` when the request came from a Spring/NestJS
 * requester (a NestJS `ClientKafka` completes the request's observable, and forgets the request,
 * only on a reply that says it is the last; Spring ignores the header).
 * Pure, so it can be unit-tested.
 *
 * Throws a `TypeError` when the reply cannot be sent: a status outside 200–599, a header value
 * that is not a string, or a body JSON cannot encode (a BigInt, a cycle, a bare function).
 *
 * @example
 * const { value, headers } = encodeReply({ status: 201, body: order }, decoded.reply);
 */
export function encodeReply(
  reply: ResponderReply | void,
  to: Pick<ReplyAddress, 'correlationId' | 'springCorrelationId' | 'trace' | 'gather'>,
): EncodedReply {
  const status = reply?.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new TypeError(`Handler reply status ${String(status)} is not an HTTP status from 200 to 599`);
  }
  const headers: IHeaders = {
    [RG_HEADERS.correlationId]: to.correlationId,
    [RG_HEADERS.status]: String(status),
  };
  if (to.springCorrelationId !== undefined) {
    headers[SPRING_HEADERS.correlationId] = to.springCorrelationId;
    headers[NEST_HEADERS.isDisposed] = '1';
  }
  if (to.gather === true) headers[RG_HEADERS.gather] = 'true';
  if (to.trace !== undefined) {
    // The reply continues the request's trace as the service's own hop: same trace id, new span id.
    const hop = childContext(to.trace);
    headers[TRACE_HEADERS.traceparent] = formatTraceparent(hop);
    if (hop.state !== undefined) headers[TRACE_HEADERS.tracestate] = hop.state;
  }

  const { value, contentType } = encodeBody(reply?.body);
  const type = reply?.contentType ?? contentType;
  if (type !== undefined) headers[RG_HEADERS.contentType] = type;

  const extra = reply?.headers;
  if (extra !== undefined) {
    const names = Object.keys(extra);
    for (const name of names) {
      if (typeof extra[name] !== 'string') throw new TypeError(`Handler reply header "${name}" is not a string`);
    }
    if (names.length > 0) headers[RG_HEADERS.headers] = JSON.stringify(extra);
  }
  return { value, headers };
}

function encodeBody(body: unknown): { value: Buffer; contentType: string | undefined } {
  if (body === undefined) return { value: EMPTY, contentType: undefined };
  if (Buffer.isBuffer(body)) return { value: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { value: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' };
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new TypeError(`Handler reply body of type ${typeof body} cannot be JSON-encoded`);
  return { value: Buffer.from(json, 'utf8'), contentType: 'application/json' };
}
