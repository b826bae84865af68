import { expect } from 'chai';
import { buildRequestMessage } from '../../../src/kafka/request-message';
import type { OutgoingRequest } from '../../../src/protocol/outgoing-request';

const ID = 'rg-test.AAAAAAAAAAAAAAAAAAAAAA';

function request(extra: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return {
    topic: 'orders.requests',
    dialect: 'replygate',
    correlationId: ID,
    replyTopic: 'replygate.replies',
    deadline: 1_700_000_005_000,
    route: 'get-order',
    method: 'GET',
    path: '/customers/c-1/orders/o-1',
    params: { customerId: 'c-1', orderId: 'o-1' },
    query: { expand: 'items', tag: ['a', 'b'] },
    headers: { accept: 'application/json', 'x-request-id': 'req-1' },
    contentType: undefined,
    body: Buffer.alloc(0),
    key: undefined,
    ...extra,
  };
}

describe('buildRequestMessage', () => {
  it('carries the native rg- headers', () => {
    const msg = buildRequestMessage(request());
    expect(msg.headers).to.deep.equal({
      'rg-correlation-id': ID,
      'rg-reply-to': 'replygate.replies',
      'rg-deadline': '1700000005000',
      'rg-route': 'get-order',
      'rg-method': 'GET',
      'rg-path': '/customers/c-1/orders/o-1',
      'rg-params': '{"customerId":"c-1","orderId":"o-1"}',
      'rg-query': '{"expand":"items","tag":["a","b"]}',
      'rg-headers': '{"accept":"application/json","x-request-id":"req-1"}',
    });
  });

  it('sends the raw body and its content type', () => {
    const body = Buffer.from('{"item":"book"}');
    const msg = buildRequestMessage(request({ method: 'POST', body, contentType: 'application/json; charset=utf-8' }));
    expect(msg.value).to.equal(body);
    expect(msg.headers['content-type']).to.equal('application/json; charset=utf-8');
  });

  it('sends no value and no content type for a native request without a body', () => {
    const msg = buildRequestMessage(request());
    expect(msg.value).to.equal(null);
    expect(msg.headers).to.not.have.property('content-type');
  });

  it('uses the partition key as the message key, null without one', () => {
    expect(buildRequestMessage(request({ key: 'c-1' })).key).to.equal('c-1');
    expect(buildRequestMessage(request()).key).to.equal(null);
  });

  it('names a reply partition only when given one, in each dialect as its repliers read it', () => {
    expect(buildRequestMessage(request()).headers).not.to.have.property('rg-reply-partition');
    expect(buildRequestMessage(request({ dialect: 'spring' })).headers).not.to.have.property('kafka_replyPartition');
    const native = buildRequestMessage(request(), 3).headers;
    expect(native['rg-reply-partition']).to.equal('3');
    expect(native).not.to.have.property('kafka_replyPartition');
    const spring = buildRequestMessage(request({ dialect: 'spring' }), 5).headers;
    expect(spring['rg-reply-partition']).to.equal('5');
    expect((spring['kafka_replyPartition'] as Buffer).readInt32BE(0)).to.equal(5); // Spring: 4-byte int
    expect((spring['kafka_replyPartition'] as Buffer).length).to.equal(4);
    const nest = buildRequestMessage(request({ dialect: 'nestjs' }), 0).headers;
    expect(nest['kafka_replyPartition']).to.equal('0'); // NestJS: decimal text
  });

  for (const dialect of ['spring', 'nestjs'] as const) {
    describe(`${dialect} dialect`, () => {
      it('adds kafka_correlationId and kafka_replyTopic as Buffers, keeping the rg- headers', () => {
        const msg = buildRequestMessage(request({ dialect, body: Buffer.from('{}'), contentType: 'application/json' }));
        const id = msg.headers['kafka_correlationId'];
        const replyTopic = msg.headers['kafka_replyTopic'];
        expect(Buffer.isBuffer(id)).to.equal(true);
        expect(Buffer.isBuffer(replyTopic)).to.equal(true);
        expect((id as Buffer).toString('utf8')).to.equal(ID);
        expect((replyTopic as Buffer).toString('utf8')).to.equal('replygate.replies');
        expect(msg.headers['rg-correlation-id']).to.equal(ID);
        expect(msg.headers['rg-reply-to']).to.equal('replygate.replies');
      });

      it('sends the body unchanged when there is one', () => {
        const body = Buffer.from('{"item":"book"}');
        const msg = buildRequestMessage(request({ dialect, method: 'POST', body, contentType: 'application/json' }));
        expect(msg.value).to.equal(body);
        expect(msg.headers['content-type']).to.equal('application/json');
      });

      it('sends a JSON object of query and params when there is no body', () => {
        const msg = buildRequestMessage(request({ dialect }));
        expect(msg.headers['content-type']).to.equal('application/json');
        expect(JSON.parse((msg.value as Buffer).toString('utf8'))).to.deep.equal({
          expand: 'items',
          tag: ['a', 'b'],
          customerId: 'c-1',
          orderId: 'o-1',
        });
      });

      it('lets a path parameter win over a query field of the same name', () => {
        const msg = buildRequestMessage(request({ dialect, query: { orderId: 'from-query' } }));
        expect(JSON.parse((msg.value as Buffer).toString('utf8'))).to.deep.equal({
          orderId: 'o-1',
          customerId: 'c-1',
        });
      });

      it('keeps the partition key', () => {
        expect(buildRequestMessage(request({ dialect, key: 'c-1' })).key).to.equal('c-1');
      });
    });
  }

  it('does not add the Spring/NestJS headers to a native request', () => {
    const msg = buildRequestMessage(request());
    expect(msg.headers).to.not.have.property('kafka_correlationId');
    expect(msg.headers).to.not.have.property('kafka_replyTopic');
  });
});
