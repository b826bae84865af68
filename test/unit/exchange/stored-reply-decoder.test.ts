import { expect } from 'chai';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ReplyMalformedError } from '../../../src/errors/reply-errors';
import { createStoredReplyDecoder, replyHeaderLimits } from '../../../src/exchange/stored-reply-decoder';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';
import { encodeEnvelope, type ReplyEnvelope } from '../../../src/protocol/reply-envelope';
import { callbackPayload } from '../../../src/webhooks/callback-payload';

const ID = 'rg-test.AAAAAAAAAAAAAAAAAAAAAA';
const ROUTE = { name: 'orders', replyContentType: 'application/json' };

function envelope(headers: Record<string, string>): ReplyEnvelope {
  return {
    meta: { id: ID, receivedAt: 1, topic: 'replies', partition: 0, offset: '0', headers: JSON.stringify(headers) },
    body: Buffer.from('{"ok":true}'),
  };
}

/** A decoder over `limits` whose metrics and warn lines the test can read. */
function rig(limits = { maxCount: 2, maxBytes: 1024 }) {
  const lines: { msg: string; header?: string; route?: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      cb();
    },
  });
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const decoder = createStoredReplyDecoder({ limits, metrics, log: pino({ level: 'warn' }, sink) });
  const count = async (metric: 'replyHeadersDropped' | 'replyErrors', label: string): Promise<number> =>
    (await metrics[metric].get()).values
      .filter((v) => Object.values(v.labels).includes(label))
      .reduce((sum, v) => sum + v.value, 0);
  return { decoder, lines, count };
}

describe('createStoredReplyDecoder (every path that answers a reply)', () => {
  it('applies the caps it was built with, not the defaults, and counts the refusal as malformed', async () => {
    const { decoder, count } = rig();
    expect(Object.keys(decoder.decode(envelope({ 'x-a': '1', 'x-b': '2' }), ROUTE).headers)).to.have.length(2);
    const err = (() => {
      try {
        decoder.decode(envelope({ 'x-a': '1', 'x-b': '2', 'x-c': '3' }), ROUTE);
      } catch (e) {
        return e;
      }
      throw new Error('expected a refusal');
    })();
    expect(err).to.be.instanceOf(ReplyMalformedError);
    expect((err as Error).message)
      .to.contain('at most 2')
      .and.to.contain('REPLYGATE_MAX_REPLY_HEADERS');
    expect(await count('replyErrors', 'malformed')).to.equal(1);
  });

  it('decodes raw stored bytes as well as envelopes', () => {
    const { decoder } = rig();
    expect(decoder.decode(encodeEnvelope(envelope({ etag: '"v1"' })), ROUTE).headers).to.deep.equal({ etag: '"v1"' });
    expect(() => decoder.decode(Buffer.from('not an envelope'), ROUTE)).to.throw(ReplyMalformedError);
  });

  it('counts every dropped header by family and logs each route/header pair once', async () => {
    const { decoder, lines, count } = rig();
    for (let i = 0; i < 3; i++) decoder.decode(envelope({ 'X-Frame-Options': 'ALLOWALL', 'set-cookie': 'a=b' }), ROUTE);
    decoder.decode(envelope({ 'x-frame-options': 'DENY' }), { ...ROUTE, name: 'other' });
    expect(await count('replyHeadersDropped', 'security')).to.equal(4);
    expect(await count('replyHeadersDropped', 'cookie')).to.equal(3);
    const warned = lines.map((l) => `${l.route}:${l.header}`);
    expect(warned).to.deep.equal(['orders:x-frame-options', 'orders:set-cookie', 'other:x-frame-options']);
  });

  it('reads the caps from REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES', () => {
    expect(replyHeaderLimits({ maxReplyHeaders: 3, maxReplyHeaderBytes: 99 })).to.deep.equal({
      maxCount: 3,
      maxBytes: 99,
    });
  });

  it('gives webhook payloads the same caps: over them the callback carries 502 RG_REPLY_MALFORMED', () => {
    const { decoder } = rig({ maxCount: 1, maxBytes: 1024 });
    const raw = encodeEnvelope(envelope({ 'x-a': '1', 'x-b': '2' }));
    const payload = JSON.parse(callbackPayload(ID, ROUTE, raw, decoder)) as Record<string, unknown>;
    expect(payload).to.deep.include({ correlationId: ID, route: 'orders', status: 502, error: 'RG_REPLY_MALFORMED' });
    expect(String(payload['detail'])).to.contain('REPLYGATE_MAX_REPLY_HEADERS');
  });
});
