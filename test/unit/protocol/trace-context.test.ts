import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import {
  childContext,
  formatTraceparent,
  parseTraceparent,
  type TraceContext,
} from '../../../src/protocol/trace-context';
import { decodeReplyMessage } from '../../../src/relay/reply-decoder';
import { decodeEnvelope, decodeReply } from '../../../src/protocol/reply-envelope';
import { decodeRequest } from '../../../src/responder/decode-request';
import { encodeReply } from '../../../src/responder/encode-reply';
import { buildRequestMessage } from '../../../src/kafka/request-message';
import type { OutgoingRequest } from '../../../src/protocol/outgoing-request';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TP = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe('W3C trace context', () => {
  it('parses and formats a version-00 traceparent', () => {
    const ctx = parseTraceparent(TP, 'vendor=abc');
    expect(ctx).to.deep.equal({ traceId: TRACE_ID, spanId: '00f067aa0ba902b7', flags: 1, state: 'vendor=abc' });
    expect(formatTraceparent(ctx!)).to.equal(TP);
  });

  it('ignores what the spec says to ignore', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `ff-${TRACE_ID}-00f067aa0ba902b7-01`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`,
      `${TP}-extra`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).to.equal(undefined);
    }
    // A future version is read by its first four fields.
    expect(parseTraceparent(`01-${TRACE_ID}-00f067aa0ba902b7-01-more`)?.traceId).to.equal(TRACE_ID);
    // A tracestate that could split a header is dropped, the traceparent kept.
    expect(parseTraceparent(TP, 'a=b\r\nx: y')).to.not.have.property('state');
  });

  it('continues a trace with a new span id, or starts a sampled one', () => {
    const parent = parseTraceparent(TP, 'k=v')!;
    const child = childContext(parent);
    expect(child.traceId).to.equal(TRACE_ID);
    expect(child.spanId)
      .to.match(/^[0-9a-f]{16}$/)
      .and.not.equal(parent.spanId);
    expect(child.flags).to.equal(1);
    expect(child.state).to.equal('k=v');
    const root = childContext(undefined);
    expect(root.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(root.flags).to.equal(1);
  });
});

describe('traceparent across the wire protocol', () => {
  const trace: TraceContext = { traceId: TRACE_ID, spanId: '1111111111111111', flags: 1, state: 'k=v' };
  const request: OutgoingRequest = {
    topic: 't',
    dialect: 'replygate',
    correlationId: 'rg-a.AAAAAAAAAAAAAAAAAAAAAA',
    replyTopic: 'replies',
    deadline: Date.now() + 60_000,
    route: 'r',
    method: 'GET',
    path: '/x',
    params: {},
    query: {},
    headers: { traceparent: TP, 'x-request-id': 'r1' },
    contentType: undefined,
    body: Buffer.alloc(0),
    key: undefined,
    trace,
  };

  it('puts the gateway hop into real Kafka headers and into rg-headers', () => {
    const message = buildRequestMessage(request);
    expect(message.headers['traceparent']).to.equal(`00-${TRACE_ID}-1111111111111111-01`);
    expect(message.headers['tracestate']).to.equal('k=v');
    const forwarded = JSON.parse(String(message.headers['rg-headers'])) as Record<string, string>;
    expect(forwarded['traceparent']).to.equal(`00-${TRACE_ID}-1111111111111111-01`);
    expect(forwarded['x-request-id']).to.equal('r1');
  });

  it('sends no trace headers for a request without trace', () => {
    const message = buildRequestMessage({ ...request, trace: undefined, headers: {} });
    expect(message.headers).to.not.have.property('traceparent');
  });

  it('the responder continues it on the reply, the relay keeps it, the reader returns it', () => {
    const built = buildRequestMessage(request);
    const kafkaMessage = {
      key: null,
      value: built.value,
      headers: built.headers,
      offset: '0',
      timestamp: '0',
      attributes: 0,
    } as unknown as KafkaMessage;
    const decoded = decodeRequest(kafkaMessage);
    expect(decoded.ok).to.equal(true);
    if (!decoded.ok) return;
    const reply = encodeReply({ body: { ok: true } }, decoded.reply);
    const replyTp = String(reply.headers['traceparent']);
    expect(replyTp).to.match(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(replyTp).to.not.equal(`00-${TRACE_ID}-1111111111111111-01`);
    expect(reply.headers['tracestate']).to.equal('k=v');

    const relayed = decodeReplyMessage(
      { key: null, value: reply.value, headers: reply.headers, offset: '5' } as unknown as KafkaMessage,
      'replies',
      0,
      1024,
    );
    expect(relayed.ok).to.equal(true);
    if (!relayed.ok) return;
    const envelope = decodeEnvelope(relayed.write.value);
    expect(envelope.meta.traceparent).to.equal(replyTp);
    expect(envelope.meta.tracestate).to.equal('k=v');
    expect(decodeReply(envelope, 'application/json').traceparent).to.equal(replyTp);
  });

  it('a reply without trace headers stores none', () => {
    const reply = encodeReply({ body: 'x' }, { correlationId: request.correlationId, springCorrelationId: undefined });
    expect(reply.headers).to.not.have.property('traceparent');
  });
});
