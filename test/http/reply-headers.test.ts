import { expect } from 'chai';
import request from 'supertest';
import { createCorsStage } from '../../src/admission/cors-stage';
import { helmetDefaultHeaders } from '../../src/ingress/http/security-headers';
import { createHarness, type Harness } from './gateway-harness';

const ROUTES = `
routes:
  - { name: get-order, method: GET, path: /orders/:id, topic: orders.get }
  - { name: shop, method: GET, path: /shop, topic: shop.get, cors: { origins: ["https://shop.example"] } }
`;
const HELMET = Object.fromEntries(helmetDefaultHeaders().map(([name, value]) => [name, String(value)]));

describe('reply headers a service sets (rg-headers)', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness(ROUTES, { stages: [createCorsStage()] });
  });
  afterEach(() => {
    h.registry.cancelAll('test-end');
  });

  function replyWith(headers: Record<string, string>): void {
    h.publisher.behaviour = { kind: 'reply', reply: () => ({ headers, body: '{"ok":true}' }) };
  }

  it("cannot override the gateway's security, CORS, framing or own headers", async () => {
    replyWith({
      'Access-Control-Allow-Origin': '*',
      'Content-Security-Policy': 'default-src *',
      'Strict-Transport-Security': 'max-age=0',
      'X-Frame-Options': 'ALLOWALL',
      'Idempotent-Replayed': 'true',
      'Replygate-Stored-Reply': 'true',
      'RateLimit-Remaining': '999',
      Date: 'Thu, 01 Jan 1970 00:00:00 GMT',
      'Content-Encoding': 'gzip',
      'X-Order-Version': '3',
    });
    const res = await request(h.app).get('/orders/o-1').expect(200);
    expect(res.headers['access-control-allow-origin']).to.equal(undefined);
    expect(res.headers['content-security-policy']).to.equal(HELMET['content-security-policy']);
    expect(res.headers['strict-transport-security']).to.equal(HELMET['strict-transport-security']);
    expect(res.headers['x-frame-options']).to.equal(HELMET['x-frame-options']);
    for (const name of ['idempotent-replayed', 'replygate-stored-reply', 'ratelimit-remaining', 'content-encoding']) {
      expect(res.headers[name], name).to.equal(undefined);
    }
    expect(res.headers['date']).to.not.contain('1970');
    expect(res.body).to.deep.equal({ ok: true }); // a plain body, not mislabelled as gzip
    expect(res.headers['x-order-version']).to.equal('3');
    const dropped = (await h.metrics.replyHeadersDropped.get()).values.map((v) => [v.labels['family'], v.value]);
    expect(Object.fromEntries(dropped)).to.deep.equal({ cors: 1, security: 3, gateway: 4, framing: 1 });
  });

  it("adds the service's Vary to the gateway's rather than replacing it", async () => {
    replyWith({ Vary: 'Accept-Language', 'Access-Control-Allow-Origin': '*' });
    const res = await request(h.app).get('/shop').set('origin', 'https://shop.example').expect(200);
    expect(res.headers['vary']).to.equal('Origin, Accept-Language');
    // The route's CORS answer stands: the service's wildcard is dropped.
    expect(res.headers['access-control-allow-origin']).to.equal('https://shop.example');
  });

  it('answers 502 RG_REPLY_MALFORMED naming the cap when a reply sets 2,000 headers (~400 KB)', async () => {
    replyWith(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, 'v'.repeat(200)])));
    const res = await request(h.app).get('/orders/o-1').expect(502);
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(res.body).to.deep.include({ error: 'RG_REPLY_MALFORMED', status: 502 });
    expect(String(res.body.detail)).to.contain('REPLYGATE_MAX_REPLY_HEADERS');
    expect(res.headers['x-h0']).to.equal(undefined);
  });
});
