import { expect } from 'chai';
import { encodeReply } from '../../../src/responder/encode-reply';

const NATIVE = { correlationId: 'gw-1.abc', springCorrelationId: undefined };

describe('encodeReply', () => {
  it('defaults to 200 and JSON-encodes objects', () => {
    const { value, headers } = encodeReply({ body: { id: 'o-1', n: 2 } }, NATIVE);
    expect(value.toString()).to.equal('{"id":"o-1","n":2}');
    expect(headers).to.deep.equal({
      'rg-correlation-id': 'gw-1.abc',
      'rg-status': '200',
      'content-type': 'application/json',
    });
  });

  it('writes the status as a decimal string', () => {
    expect(encodeReply({ status: 201, body: {} }, NATIVE).headers['rg-status']).to.equal('201');
    expect(encodeReply({ status: 503 }, NATIVE).headers['rg-status']).to.equal('503');
  });

  it('JSON-encodes arrays, numbers, booleans and null', () => {
    expect(encodeReply({ body: [1, 'a'] }, NATIVE).value.toString()).to.equal('[1,"a"]');
    expect(encodeReply({ body: 0 }, NATIVE).value.toString()).to.equal('0');
    expect(encodeReply({ body: false }, NATIVE).value.toString()).to.equal('false');
    const nul = encodeReply({ body: null }, NATIVE);
    expect(nul.value.toString()).to.equal('null');
    expect(nul.headers['content-type']).to.equal('application/json');
  });

  it('sends a string as-is, as UTF-8 text', () => {
    const { value, headers } = encodeReply({ body: 'héllo' }, NATIVE);
    expect(value.equals(Buffer.from('héllo', 'utf8'))).to.equal(true);
    expect(headers['content-type']).to.equal('text/plain; charset=utf-8');
  });

  it('sends a Buffer as-is, as octet-stream', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    const { value, headers } = encodeReply({ body: bytes }, NATIVE);
    expect(value).to.equal(bytes);
    expect(headers['content-type']).to.equal('application/octet-stream');
  });

  it('lets the handler choose the content type', () => {
    const { headers } = encodeReply({ body: '<p/>', contentType: 'text/html' }, NATIVE);
    expect(headers['content-type']).to.equal('text/html');
  });

  it('sends an empty body without a content type for no reply or no body', () => {
    for (const reply of [undefined, {}, { status: 204 }]) {
      const { value, headers } = encodeReply(reply, NATIVE);
      expect(value.length).to.equal(0);
      expect(headers).to.not.have.property('content-type');
    }
    expect(encodeReply(undefined, NATIVE).headers['rg-status']).to.equal('200');
  });

  it('adds rg-headers as JSON only when the handler gave headers', () => {
    const withHeaders = encodeReply({ body: {}, headers: { location: '/orders/1', 'x-a': 'b' } }, NATIVE);
    expect(JSON.parse(String(withHeaders.headers['rg-headers']))).to.deep.equal({ location: '/orders/1', 'x-a': 'b' });
    expect(encodeReply({ body: {} }, NATIVE).headers).to.not.have.property('rg-headers');
    expect(encodeReply({ body: {}, headers: {} }, NATIVE).headers).to.not.have.property('rg-headers');
  });

  it('echoes the raw Spring correlation bytes as kafka_correlationId', () => {
    const raw = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const { headers } = encodeReply({ body: {} }, { correlationId: raw.toString('hex'), springCorrelationId: raw });
    expect(headers['kafka_correlationId']).to.equal(raw);
    expect(headers['rg-correlation-id']).to.equal(raw.toString('hex'));
  });

  it('sends no kafka_correlationId for a native request', () => {
    expect(encodeReply({ body: {} }, NATIVE).headers).to.not.have.property('kafka_correlationId');
  });

  it('marks a Spring/NestJS reply as the last one (kafka_nest-is-disposed), a native one not', () => {
    const raw = Buffer.from('nest-id-1');
    const { headers } = encodeReply({ body: {} }, { correlationId: 'nest-id-1', springCorrelationId: raw });
    expect(headers).to.have.property('kafka_nest-is-disposed');
    expect(encodeReply({ body: {} }, NATIVE).headers).to.not.have.property('kafka_nest-is-disposed');
  });

  it('rejects a status the gateway cannot answer with', () => {
    for (const status of [0, 100, 199, 600, 200.5, Number.NaN]) {
      expect(() => encodeReply({ status }, NATIVE), String(status)).to.throw(TypeError, /status/);
    }
  });

  it('rejects a header value that is not a string', () => {
    const headers = { 'x-n': 1 } as unknown as Record<string, string>;
    expect(() => encodeReply({ headers }, NATIVE)).to.throw(TypeError, /x-n/);
  });

  it('rejects a body JSON cannot encode', () => {
    expect(() => encodeReply({ body: () => 1 }, NATIVE)).to.throw(TypeError);
    expect(() => encodeReply({ body: { n: 1n } }, NATIVE)).to.throw(TypeError);
  });
});
