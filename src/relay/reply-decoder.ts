import type { KafkaMessage } from 'kafkajs';
import { parseCorrelationId } from '../protocol/correlation-id';
import { NEST_HEADERS, RG_HEADERS, SPRING_HEADERS, headerString, type RawHeaders } from '../protocol/kafka-headers';
import { encodeEnvelope, type ReplyEnvelopeMeta } from '../protocol/reply-envelope';
import type { ReplyWrite } from '../exchange/reply-store';
import { TRACE_HEADERS } from '../protocol/trace-context';
import { gatheredId } from '../protocol/reply-keys';
import { partId } from '../protocol/reply-keys';

/** Why a message on the reply topic was skipped. */
export type PoisonReason = 'missing-correlation-id' | 'foreign-correlation-id' | 'too-large' | 'bad-sequence';

/** The decoded form of one reply-topic message: a store write, or a reason to skip it. */
export type DecodedReplyMessage = { ok: true; write: ReplyWrite } | { ok: false; reason: PoisonReason };

/**
 * Turn a reply-topic message into a store write without interpreting the body: the relay stays
 * route-agnostic and cheap, and the reader validates status and headers (a bad one is a 502 for
 * the waiting client, not a reply lost in the relay).
 *
 * Native replies carry `rg-correlation-id`; Spring and NestJS replies carry `kafka_correlationId`.
 * Only correlation ids of replygate's own shape are accepted, so the reply topic cannot be used to
 * write arbitrary keys.
 */
export function decodeReplyMessage(
  message: KafkaMessage,
  topic: string,
  partition: number,
  maxReplyBytes: number,
  now = Date.now(),
): DecodedReplyMessage {
  const headers = message.headers as RawHeaders | undefined;
  const id =
    headerString(headers, RG_HEADERS.correlationId) ??
    headerString(headers, SPRING_HEADERS.correlationId) ??
    headerString(headers, NEST_HEADERS.correlationId);
  if (id === undefined || id === '') return { ok: false, reason: 'missing-correlation-id' };
  if (id.length > 200 || parseCorrelationId(id) === undefined) return { ok: false, reason: 'foreign-correlation-id' };
  const body = message.value ?? Buffer.alloc(0);
  if (body.length > maxReplyBytes) return { ok: false, reason: 'too-large' };
  const meta: ReplyEnvelopeMeta = { id, receivedAt: now, topic, partition, offset: message.offset };
  const status = headerString(headers, RG_HEADERS.status);
  if (status !== undefined) meta.status = status;
  const extra = headerString(headers, RG_HEADERS.headers);
  if (extra !== undefined) meta.headers = extra;
  const contentType = headerString(headers, RG_HEADERS.contentType);
  if (contentType !== undefined) meta.contentType = contentType;
  const nestError = headerString(headers, NEST_HEADERS.error);
  if (nestError !== undefined) meta.error = nestError;
  // Kept raw and bounded; the reader validates it against the request's trace.
  const traceparent = headerString(headers, TRACE_HEADERS.traceparent);
  if (traceparent !== undefined && traceparent.length <= 128) meta.traceparent = traceparent;
  const tracestate = headerString(headers, TRACE_HEADERS.tracestate);
  if (tracestate !== undefined && tracestate.length <= 512) meta.tracestate = tracestate;
  // A streamed reply part is stored beside the others under `<id>#<seq>`: parts written by
  // different relays never overwrite each other, and the origin's key pattern still covers them.
  const seqHeader = headerString(headers, RG_HEADERS.seq);
  let key = id;
  if (headerString(headers, RG_HEADERS.gather) === 'true') {
    // One of several replies to a scatter-gather request: keyed by where it sits in Kafka, so each
    // responder's reply is kept and a re-read of the same message is still absorbed by SET NX.
    return {
      ok: true,
      write: { correlationId: gatheredId(id, partition, message.offset), value: encodeEnvelope({ meta, body }) },
    };
  }
  if (seqHeader !== undefined) {
    if (!/^\d{1,6}$/.test(seqHeader)) return { ok: false, reason: 'bad-sequence' };
    meta.seq = Number(seqHeader);
    if (headerString(headers, RG_HEADERS.final) === 'true') meta.final = true;
    key = partId(id, meta.seq);
  }
  return { ok: true, write: { correlationId: key, value: encodeEnvelope({ meta, body }) } };
}
