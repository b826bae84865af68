import { expect } from 'chai';
import { decodeRequest } from '../../../src/responder/decode-request';
import { ResponderError } from '../../../src/errors/responder-error';
import { requestMessage } from './fake-request';

describe('decodeRequest', () => {
  it('reads a native replygate request', () => {
    const decoded = decodeRequest(
      requestMessage({
        correlationId: 'gw-1.abc',
        replyTo: 'replies',
        deadline: 2_000,
        route: 'getOrder',
        method: 'get',
        path: '/orders/o-1',
        params: { orderId: 'o-1' },
        query: { expand: 'items', tag: ['a', 'b'] },
        headers: { 'x-request-id': 'r-1' },
        body: { hello: 'world' },
      }),
      1_000,
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    const ctx = decoded.context;
    expect(decoded.reply).to.deep.equal({
      topic: 'replies',
      correlationId: 'gw-1.abc',
      springCorrelationId: undefined,
    });
    expect(ctx.correlationId).to.equal('gw-1.abc');
    expect(ctx.route).to.equal('getOrder');
    expect(ctx.method).to.equal('GET');
    expect(ctx.path).to.equal('/orders/o-1');
    expect(ctx.params).to.deep.equal({ orderId: 'o-1' });
    expect(ctx.query).to.deep.equal({ expand: 'items', tag: ['a', 'b'] });
    expect(ctx.headers).to.deep.equal({ 'x-request-id': 'r-1' });
    expect(ctx.contentType).to.equal('application/json');
    expect(ctx.deadline).to.equal(2_000);
    expect(ctx.json()).to.deep.equal({ hello: 'world' });
    expect(ctx.json()).to.equal(ctx.json()); // parsed once
  });

  it('reads Spring/NestJS headers and keeps the raw correlation bytes for the reply', () => {
    const uuid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const decoded = decodeRequest(
      requestMessage(
        { correlationId: undefined, replyTo: undefined, body: { id: 1 } },
        { kafka_correlationId: uuid, kafka_replyTopic: Buffer.from('spring.replies') },
      ),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.reply.topic).to.equal('spring.replies');
    expect(decoded.reply.springCorrelationId).to.equal(uuid);
    // Binary ids are shown as hex rather than mangled UTF-8.
    expect(decoded.context.correlationId).to.equal('00112233445566778899aabbccddeeff');
    expect(decoded.context.route).to.equal(undefined);
    expect(decoded.context.params).to.deep.equal({});
  });

  it('keeps a text Spring correlation id as text', () => {
    const decoded = decodeRequest(
      requestMessage(
        { correlationId: undefined, replyTo: undefined },
        { kafka_correlationId: 'gw-2.xyz', kafka_replyTopic: 'nest.replies' },
      ),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.context.correlationId).to.equal('gw-2.xyz');
    expect(decoded.reply.springCorrelationId?.toString()).to.equal('gw-2.xyz');
  });

  it('reads kafka_replyPartition as NestJS decimal text and as a Spring 4-byte int', () => {
    const partitionOf = (raw: Buffer | string | undefined): number | undefined => {
      const extra = { kafka_correlationId: 'c-1', kafka_replyTopic: 'nest.replies' };
      const decoded = decodeRequest(
        requestMessage(
          { correlationId: undefined, replyTo: undefined },
          raw === undefined ? extra : { ...extra, kafka_replyPartition: raw },
        ),
      );
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.reply.partition;
    };
    const int = Buffer.alloc(4);
    int.writeInt32BE(5);
    expect(partitionOf('2')).to.equal(2);
    expect(partitionOf(Buffer.from('11'))).to.equal(11);
    expect(partitionOf(int)).to.equal(5);
    expect(partitionOf(undefined)).to.equal(undefined);
    expect(partitionOf('two')).to.equal(undefined);
    expect(partitionOf(Buffer.from([0xff, 0xff, 0xff, 0xff]))).to.equal(undefined); // -1
  });

  it('reads rg-reply-partition on a replygate request, before kafka_replyPartition', () => {
    const partitionOf = (extra: Record<string, string | Buffer>): number | undefined => {
      const decoded = decodeRequest(requestMessage({ correlationId: 'gw-1.native' }, extra));
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.reply.partition;
    };
    expect(partitionOf({ 'rg-reply-partition': '3' })).to.equal(3);
    // A gateway route in the Spring or NestJS dialect sends both correlation ids and both headers.
    expect(partitionOf({ kafka_replyPartition: '4' })).to.equal(4);
    expect(partitionOf({ 'rg-reply-partition': '1', kafka_replyPartition: '4' })).to.equal(1);
    expect(partitionOf({ 'rg-reply-partition': '-1' })).to.equal(undefined);
    expect(partitionOf({ 'rg-reply-partition': '1e3' })).to.equal(undefined);
    expect(partitionOf({})).to.equal(undefined);
  });

  it('prefers rg-correlation-id over kafka_correlationId and then sends no Spring header', () => {
    const decoded = decodeRequest(requestMessage({ correlationId: 'gw-1.native' }, { kafka_correlationId: 'other' }));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.reply.correlationId).to.equal('gw-1.native');
    expect(decoded.reply.springCorrelationId).to.equal(undefined);
  });

  it('skips a message without a correlation id', () => {
    const decoded = decodeRequest(requestMessage({ correlationId: undefined }));
    expect(decoded).to.include({ ok: false, reason: 'missing-correlation-id' });
  });

  it('skips a message with an empty correlation id', () => {
    const decoded = decodeRequest(requestMessage({ correlationId: '' }));
    expect(decoded).to.include({ ok: false, reason: 'missing-correlation-id' });
  });

  it('skips a message without a reply topic', () => {
    const decoded = decodeRequest(requestMessage({ correlationId: 'gw-1.a', replyTo: undefined }));
    expect(decoded).to.include({ ok: false, reason: 'missing-reply-to', correlationId: 'gw-1.a' });
  });

  it('skips a message with no headers at all', () => {
    const decoded = decodeRequest({ key: null, value: null, timestamp: '0', attributes: 0, offset: '0', size: 0 });
    expect(decoded).to.include({ ok: false, reason: 'missing-correlation-id' });
  });

  it('drops a request whose deadline has passed', () => {
    const decoded = decodeRequest(requestMessage({ correlationId: 'gw-1.late', deadline: 1_000 }), 1_001);
    expect(decoded).to.deep.equal({ ok: false, reason: 'expired', correlationId: 'gw-1.late', deadline: 1_000 });
  });

  it('drops a request whose deadline is exactly now', () => {
    expect(decodeRequest(requestMessage({ deadline: 1_000 }), 1_000)).to.include({ reason: 'expired' });
  });

  it('keeps a request before its deadline, and one without a deadline', () => {
    expect(decodeRequest(requestMessage({ deadline: 1_000 }), 999).ok).to.equal(true);
    const decoded = decodeRequest(requestMessage({}), Number.MAX_SAFE_INTEGER);
    expect(decoded.ok).to.equal(true);
    if (decoded.ok) expect(decoded.context.deadline).to.equal(undefined);
  });

  it('reads a malformed deadline as no deadline', () => {
    const decoded = decodeRequest(requestMessage({}, { 'rg-deadline': 'soon' }), Number.MAX_SAFE_INTEGER);
    expect(decoded.ok).to.equal(true);
    if (decoded.ok) expect(decoded.context.deadline).to.equal(undefined);
  });

  it('reads bad JSON in rg-params, rg-query and rg-headers as {}', () => {
    const decoded = decodeRequest(
      requestMessage({}, { 'rg-params': '{not json', 'rg-query': '[1,2]', 'rg-headers': 'null' }),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.context.params).to.deep.equal({});
    expect(decoded.context.query).to.deep.equal({});
    expect(decoded.context.headers).to.deep.equal({});
  });

  it('drops entries of the wrong type and keeps __proto__ a plain key', () => {
    const decoded = decodeRequest(
      requestMessage(
        {},
        {
          'rg-params': '{"ok":"1","n":2,"__proto__":"x"}',
          'rg-query': '{"a":["x",1],"b":["y"],"c":{}}',
        },
      ),
    );
    if (!decoded.ok) throw new Error(decoded.reason);
    expect({ ...decoded.context.params }).to.deep.equal({ ok: '1', ['__proto__']: 'x' });
    expect(Object.getPrototypeOf(decoded.context.params)).to.equal(null);
    expect({ ...decoded.context.query }).to.deep.equal({ b: ['y'] });
    expect(({} as Record<string, unknown>)['ok']).to.equal(undefined);
  });

  it('takes the first value of a repeated header', () => {
    const decoded = decodeRequest(requestMessage({}, { 'rg-route': ['first', 'second'] }));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.context.route).to.equal('first');
  });

  it('gives an empty body for a null value', () => {
    const decoded = decodeRequest(requestMessage({}));
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.context.body.length).to.equal(0);
    expect(decoded.context.contentType).to.equal(undefined);
  });

  describe('json()', () => {
    const ctxWith = (body: string | undefined) => {
      const decoded = decodeRequest(requestMessage({ body, contentType: 'application/json' }));
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.context;
    };

    it('throws a 400 ResponderError on bad JSON', () => {
      const err = catchError(() => ctxWith('{"a":').json());
      expect(err).to.be.instanceOf(ResponderError);
      expect(err).to.include({ status: 400, code: 'INVALID_JSON' });
    });

    it('throws a 400 ResponderError on an empty body', () => {
      expect(catchError(() => ctxWith(undefined).json())).to.include({ status: 400, code: 'INVALID_JSON' });
    });

    it('parses JSON scalars too', () => {
      expect(ctxWith('42').json<number>()).to.equal(42);
      expect(ctxWith('null').json()).to.equal(null);
    });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
