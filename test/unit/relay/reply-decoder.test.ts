import { expect } from 'chai';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { newCorrelationId, parseCorrelationId } from '../../../src/protocol/correlation-id';
import { decodeEnvelope, decodeReply } from '../../../src/protocol/reply-envelope';
import { decodeReplyMessage, type DecodedReplyMessage } from '../../../src/relay/reply-decoder';
import type { ReplyWrite } from '../../../src/exchange/reply-store';

const NOW = 1_700_000_000_123;
const MAX = 1024;

function message(headers: IHeaders | undefined, value: Buffer | null = Buffer.from('{"ok":true}')): KafkaMessage {
  // kafkajs types a message as a union whose legacy member may not carry headers; replies can.
  return {
    key: null,
    value,
    timestamp: String(NOW),
    attributes: 0,
    offset: '17',
    size: 0,
    headers,
  } as KafkaMessage;
}

function written(decoded: DecodedReplyMessage): ReplyWrite {
  if (!decoded.ok) throw new Error(`expected a write, got poison: ${decoded.reason}`);
  return decoded.write;
}

describe('decodeReplyMessage', () => {
  const id = newCorrelationId('rg-relaytest');

  it('turns a native reply into a write keyed by its correlation id', () => {
    const write = written(
      decodeReplyMessage(
        message({
          'rg-correlation-id': Buffer.from(id),
          'rg-status': Buffer.from('201'),
          'rg-headers': Buffer.from('{"x-order-version":"3"}'),
          'content-type': Buffer.from('application/vnd.order+json'),
        }),
        'replygate.replies',
        2,
        MAX,
        NOW,
      ),
    );
    expect(write.correlationId).to.equal(id);
    expect(parseCorrelationId(write.correlationId)?.instanceId).to.equal('rg-relaytest');
    const env = decodeEnvelope(write.value);
    expect(env.meta).to.deep.equal({
      id,
      receivedAt: NOW,
      topic: 'replygate.replies',
      partition: 2,
      offset: '17',
      status: '201',
      headers: '{"x-order-version":"3"}',
      contentType: 'application/vnd.order+json',
    });
    expect(env.body.toString()).to.equal('{"ok":true}');
    const reply = decodeReply(env, 'application/json');
    expect(reply.status).to.equal(201);
    expect(reply.headers).to.deep.equal({ 'x-order-version': '3' });
    expect(reply.contentType).to.equal('application/vnd.order+json');
  });

  it('accepts headers given as strings and the first of repeated values', () => {
    const write = written(
      decodeReplyMessage(message({ 'rg-correlation-id': [id, 'other.AAAAAAAAAAAAAAAAAAAAAA'] }), 't', 0, MAX, NOW),
    );
    expect(write.correlationId).to.equal(id);
  });

  it('turns a Spring reply (kafka_correlationId bytes) into a write', () => {
    const write = written(
      decodeReplyMessage(
        message({ kafka_correlationId: Buffer.from(id) }, Buffer.from('{"total":3}')),
        't',
        0,
        MAX,
        NOW,
      ),
    );
    expect(write.correlationId).to.equal(id);
    const env = decodeEnvelope(write.value);
    expect(env.meta).to.deep.equal({ id, receivedAt: NOW, topic: 't', partition: 0, offset: '17' });
    const reply = decodeReply(env, 'application/json');
    expect(reply.status).to.equal(200);
    expect(reply.contentType).to.equal('application/json');
    expect(reply.body.toString()).to.equal('{"total":3}');
  });

  it('turns a NestJS error reply into a write carrying the error', () => {
    const write = written(
      decodeReplyMessage(
        message(
          {
            kafka_correlationId: Buffer.from(id),
            'kafka_nest-err': Buffer.from('{"status":404,"message":"no such order"}'),
            'kafka_nest-is-disposed': Buffer.from('1'),
          },
          null,
        ),
        't',
        1,
        MAX,
        NOW,
      ),
    );
    const env = decodeEnvelope(write.value);
    expect(env.meta.error).to.equal('{"status":404,"message":"no such order"}');
    expect(env.body.length).to.equal(0);
    const reply = decodeReply(env, 'application/json');
    expect(reply.status).to.equal(404);
    expect(JSON.parse(reply.body.toString())).to.deep.equal({ status: 404, message: 'no such order' });
  });

  it('stores a reply without a value as an empty body', () => {
    const env = decodeEnvelope(
      written(decodeReplyMessage(message({ 'rg-correlation-id': id }, null), 't', 0, MAX)).value,
    );
    expect(env.body.length).to.equal(0);
  });

  it('keeps a binary body byte for byte', () => {
    const body = Buffer.from([0, 10, 13, 255, 10, 0]);
    const env = decodeEnvelope(
      written(decodeReplyMessage(message({ 'rg-correlation-id': id }, body), 't', 0, MAX)).value,
    );
    expect(env.body.equals(body)).to.equal(true);
  });

  it('stores a bad status as is: the reader answers 502, the relay does not judge', () => {
    const env = decodeEnvelope(
      written(decodeReplyMessage(message({ 'rg-correlation-id': id, 'rg-status': 'banana' }), 't', 0, MAX)).value,
    );
    expect(env.meta.status).to.equal('banana');
  });

  const poison: [string, IHeaders | undefined, string][] = [
    ['no headers at all', undefined, 'missing-correlation-id'],
    ['no correlation header', { 'content-type': 'application/json' }, 'missing-correlation-id'],
    ['an empty correlation id', { 'rg-correlation-id': '' }, 'missing-correlation-id'],
    [
      'a UUID correlation id (another client)',
      { kafka_correlationId: Buffer.from('3fa85f64-5717-4562-b3fc-2c963f66afa6') },
      'foreign-correlation-id',
    ],
    [
      'raw UUID bytes',
      { kafka_correlationId: Buffer.from('3fa85f6457174562b3fc2c963f66afa6', 'hex') },
      'foreign-correlation-id',
    ],
    ['a key pattern as id', { 'rg-correlation-id': 'rg-*.AAAAAAAAAAAAAAAAAAAAAA' }, 'foreign-correlation-id'],
    ['an over-long id', { 'rg-correlation-id': `${'x'.repeat(300)}.AAAAAAAAAAAAAAAAAAAAAA` }, 'foreign-correlation-id'],
  ];
  for (const [what, headers, reason] of poison) {
    it(`skips a message with ${what} as ${reason}`, () => {
      expect(decodeReplyMessage(message(headers), 't', 0, MAX)).to.deep.equal({ ok: false, reason });
    });
  }

  it('skips a reply larger than maxReplyBytes as too-large, and accepts one exactly at the limit', () => {
    const headers = { 'rg-correlation-id': id };
    expect(decodeReplyMessage(message(headers, Buffer.alloc(MAX + 1)), 't', 0, MAX)).to.deep.equal({
      ok: false,
      reason: 'too-large',
    });
    expect(decodeReplyMessage(message(headers, Buffer.alloc(MAX)), 't', 0, MAX).ok).to.equal(true);
  });
});

describe('decodeReplyMessage: streamed parts', () => {
  const id = 'rg-abc.AAAAAAAAAAAAAAAAAAAAAA';
  const msg = (headers: Record<string, string>) =>
    ({ key: null, value: Buffer.from('p'), timestamp: '0', attributes: 0, offset: '7', size: 0, headers }) as never;

  it('stores a part under <id>#<seq> with its sequence and final marker', () => {
    const d = decodeReplyMessage(msg({ 'rg-correlation-id': id, 'rg-seq': '3', 'rg-final': 'true' }), 't', 0, 1024);
    expect(d.ok).to.equal(true);
    if (!d.ok) return;
    expect(d.write.correlationId).to.equal(`${id}#3`);
    const env = decodeEnvelope(d.write.value);
    expect(env.meta.seq).to.equal(3);
    expect(env.meta.final).to.equal(true);
  });

  it('skips a part with a sequence that is not a small integer', () => {
    const d = decodeReplyMessage(msg({ 'rg-correlation-id': id, 'rg-seq': '-1' }), 't', 0, 1024);
    expect(d).to.deep.equal({ ok: false, reason: 'bad-sequence' });
  });
});
