import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import request from 'supertest';
import { createHarness, type Harness } from './gateway-harness';

const LIMIT = 64 * 1024;
const ROUTES = `
routes:
  - { name: create, method: POST, path: /orders, topic: orders.create, key: body.orderId, maxBodyBytes: ${LIMIT} }
  - { name: get, method: GET, path: /orders/:id, topic: orders.get }
`;

/** POST a raw body with the given Content-Encoding. */
function post(h: Harness, body: Buffer, encoding: string) {
  return request(h.app)
    .post('/orders')
    .set('content-type', 'application/json')
    .set('content-encoding', encoding)
    .serialize((b: Buffer) => b as unknown as string) // as is: superagent would JSON-encode a Buffer
    .send(body);
}

describe('request bodies with Content-Encoding', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness(ROUTES);
  });
  afterEach(() => {
    h.registry.cancelAll('test-end');
  });

  const json = Buffer.from(JSON.stringify({ orderId: 'o-7', lines: ['tea', 'cake'] }));
  const encoders: [string, (b: Buffer) => Buffer][] = [
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZip', gzipSync],
  ];
  for (const [encoding, encode] of encoders) {
    it(`decodes ${encoding} and forwards the decoded body (key read from it)`, async () => {
      await post(h, encode(json), encoding).expect(200);
      expect(h.publisher.published).to.have.length(1);
      const published = h.publisher.published[0]!;
      expect(published.body.equals(json)).to.equal(true);
      expect(published.key).to.equal('o-7');
      expect(published.contentType).to.equal('application/json');
    });
  }

  it('takes identity as no encoding', async () => {
    await post(h, json, 'identity').expect(200);
    expect(h.publisher.published[0]!.body.equals(json)).to.equal(true);
  });

  for (const encoding of ['compress', 'zstd', 'gzip, br']) {
    it(`refuses Content-Encoding: ${encoding} with 415 RG_UNSUPPORTED_CONTENT_ENCODING, publishing nothing`, async () => {
      const res = await post(h, json, encoding).expect(415);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body).to.deep.include({ status: 415, error: 'RG_UNSUPPORTED_CONTENT_ENCODING' });
      expect(res.body.details).to.deep.equal({ contentEncoding: encoding, supported: ['gzip', 'deflate', 'br'] });
      expect(h.publisher.published).to.have.length(0);
    });
  }

  it('stops a compression bomb at the route limit (413) (decoding stops there: see test/unit/http/read-body.test.ts)', async () => {
    // 64 MiB of zeros in about 64 KB of gzip: under the limit compressed, 1024 times over decoded.
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    expect(bomb.length).to.be.below(LIMIT);
    const res = await post(h, bomb, 'gzip').expect(413);
    expect(res.body).to.deep.include({ error: 'RG_BODY_TOO_LARGE' });
    expect(h.publisher.published).to.have.length(0);
  });

  it('accepts a compressed body that decodes to exactly the limit', async () => {
    const head = '{"orderId":"o-1","pad":"';
    const exact = Buffer.from(`${head}${'x'.repeat(LIMIT - head.length - 2)}"}`);
    expect(exact.length).to.equal(LIMIT);
    await post(h, gzipSync(exact), 'gzip').expect(200);
    expect(h.publisher.published[0]!.body.length).to.equal(LIMIT);
  });

  it('refuses a body that is not valid for its encoding with 400', async () => {
    const res = await post(h, Buffer.from('not gzip at all'), 'gzip').expect(400);
    expect(res.body).to.deep.include({ error: 'RG_BAD_REQUEST' });
    expect(String(res.body.detail)).to.contain('Content-Encoding');
    expect(h.publisher.published).to.have.length(0);
  });
});
