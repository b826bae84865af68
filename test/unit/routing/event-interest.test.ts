import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import { parseRoutes } from '../../../src/config/routes-file';
import { BadRequestError } from '../../../src/errors/http-errors';
import { encodeStateRecord, entityOf, satisfyingState } from '../../../src/protocol/event-await';
import { decodeEvent } from '../../../src/relay/event-decoder';
import { buildEventInterest, resolveReplyInterest } from '../../../src/routing/event-interest';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: ['accept'] };

const [route] = parseRoutes(
  `
routes:
  - name: createOrder
    method: POST
    path: /orders
    topic: orders.commands
    await:
      topic: orders.events
      match: { key: reply.body.orderId, value.customer: body.customer, header.tenant: reply.header.X-Tenant }
      state: { field: value.status, in: [VALIDATED] }
`,
  DEFAULTS,
);
const sources = (body: unknown) => ({ params: {}, query: {}, headers: {}, body });

describe('event interest from the reply to the command (reply.…)', () => {
  it('reads the request values now and leaves the reply values pending, since = now', () => {
    const interest = buildEventInterest(route!, sources({ customer: 'c-1' }), 1000);
    expect(interest).to.include({ entity: '', since: 1000, readState: true });
    expect(interest?.pending).to.deep.equal([
      { reply: 'reply.body.orderId' },
      { value: 'c-1' },
      { reply: 'reply.header.X-Tenant' },
    ]);
  });

  it('still answers 400 for a request value the request lacks, before anything is published', () => {
    expect(() => buildEventInterest(route!, sources({}), 1000)).to.throw(BadRequestError, /body\.customer/);
  });

  it('hashes the values in rule order into the entity the relay computes from the event', () => {
    const interest = buildEventInterest(route!, sources({ customer: 'c-1' }), 1000)!;
    const resolved = resolveReplyInterest(interest, { headers: { 'x-tenant': 't-1' }, body: { orderId: 'o-9' } });
    expect(resolved).to.not.have.property('missing');
    const event: KafkaMessage = {
      key: Buffer.from('o-9'),
      value: Buffer.from(JSON.stringify({ customer: 'c-1', status: 'VALIDATED' })),
      headers: { tenant: Buffer.from('t-1') },
      timestamp: '2000',
      offset: '0',
      attributes: 0,
    };
    const decoded = decodeEvent(event, [{ route: 'createOrder', await: route!.await!, horizonMs: 1e12 }], {
      topic: 'orders.events',
      partition: 0,
      maxBytes: 1 << 20,
      now: 2000,
    });
    expect(decoded.ok && decoded.matches[0]?.entity).to.equal((resolved as { entity: string }).entity);
    expect((resolved as { entity: string }).entity).to.equal(entityOf(['o-9', 'c-1', 't-1']));
    expect(resolved).to.include({ since: 1000, readState: true, pending: undefined });
  });

  it('names the reply field that is missing, not a string/number, or only inherited', () => {
    const interest = buildEventInterest(route!, sources({ customer: 'c-1' }), 1000)!;
    const headers = { 'x-tenant': 't-1' };
    expect(resolveReplyInterest(interest, { headers, body: {} })).to.deep.equal({ missing: 'reply.body.orderId' });
    expect(resolveReplyInterest(interest, { headers, body: { orderId: { $gt: '' } } })).to.deep.equal({
      missing: 'reply.body.orderId',
    });
    expect(resolveReplyInterest(interest, { headers, body: undefined })).to.deep.equal({
      missing: 'reply.body.orderId',
    });
    const inherited = Object.create({ orderId: 'o-1' }) as unknown;
    expect(resolveReplyInterest(interest, { headers, body: inherited })).to.deep.equal({
      missing: 'reply.body.orderId',
    });
    expect(resolveReplyInterest(interest, { headers: {}, body: { orderId: 'o-9' } })).to.deep.equal({
      missing: 'reply.header.X-Tenant',
    });
  });
});

describe('kept state records (blocking reads and reply.… routes)', () => {
  const envelope = Buffer.from('rg1\n{"id":""}\nbody');

  it('carries the event timestamp and gives back the envelope when it satisfies the route', () => {
    const record = encodeStateRecord(true, 1_700_000_000_123, envelope);
    expect(record.subarray(0, 15).toString()).to.equal('11700000000123 ');
    expect(satisfyingState(record)?.equals(envelope)).to.equal(true);
    expect(satisfyingState(encodeStateRecord(false, 5, envelope))).to.equal(undefined);
  });

  it('reads a record written before the timestamp existed (flag + envelope)', () => {
    const legacy = Buffer.concat([Buffer.from('1'), envelope]);
    expect(satisfyingState(legacy)?.equals(envelope)).to.equal(true);
  });
});
