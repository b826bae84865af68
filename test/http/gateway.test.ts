import { expect } from 'chai';
import request, { type Response } from 'supertest';
import { createApp } from '../../src/ingress/http/create-app';
import { silentLogger } from '../../src/observability/logger';
import { Readiness } from '../../src/observability/readiness';
import { waitFor } from '../support/wait-for';
import { createHarness, INSTANCE_ID, type Harness } from './gateway-harness';

const ROUTES = `
routes:
  - { name: get-order, method: GET, path: /orders/:orderId, topic: orders.get }
  - { name: update-order, method: PUT, path: /orders/:orderId, topic: orders.update, key: params.orderId, accepts: [application/json, text/plain] }
  - { name: create-order, method: POST, path: /customers/:customerId/orders, topic: orders.create, key: body.orderId, maxBodyBytes: 64 }
  - { name: search, method: GET, path: /customers/:customerId/search, topic: search, key: query.region }
  - { name: slow, method: GET, path: /slow, topic: slow, timeoutMs: 100 }
  - { name: secure, method: GET, path: /secure, topic: secure, forwardHeaders: [authorization, cookie, x-tenant], forwardAuthorization: true, forwardCookie: true }
  - { name: secure-flags-only, method: GET, path: /secure-flags, topic: secure, forwardAuthorization: true, forwardCookie: true }
  - { name: listed-not-opted-in, method: GET, path: /listed, topic: t, forwardHeaders: [authorization, cookie, x-tenant] }
  - { name: nest, method: GET, path: /nest/:id, topic: nest.get, dialect: nestjs }
  - { name: pollute, method: POST, path: /pollute, topic: t, key: body.orderId }
`;

/** A counter's value summed over its label sets. */
async function metricTotal(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

const CORRELATION_ID = new RegExp(`^${INSTANCE_ID}\\.[A-Za-z0-9_-]{22}$`);

/** Every error the gateway answers is a problem body with a stable code, and carries our id. */
function expectProblem(res: Response, status: number, code: string): Record<string, unknown> {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  const body = res.body as Record<string, unknown>;
  expect(body['error']).to.equal(code);
  expect(body['status']).to.equal(status);
  expect(body['detail']).to.be.a('string').that.is.not.empty;
  expect(body['title']).to.equal(code);
  expect(body['type']).to.equal(`urn:replygate:error:${code}`);
  expect(res.headers['x-correlation-id']).to.match(CORRELATION_ID);
  expect(body['correlationId']).to.equal(res.headers['x-correlation-id']);
  return body;
}

describe('HTTP gateway (in-process, fake publisher)', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness(ROUTES);
  });
  afterEach(() => {
    h.registry.cancelAll('test-end');
  });

  describe('replies', () => {
    it("answers with the service's status, headers and body", async () => {
      h.publisher.behaviour = {
        kind: 'reply',
        reply: (r) => ({
          headers: { 'X-Order-Version': '3', 'Cache-Control': 'no-store' },
          contentType: 'application/vnd.order+json',
          body: JSON.stringify({ id: r.params['orderId'] }),
        }),
      };
      const res = await request(h.app).get('/orders/o-1').expect(200);
      expect(res.headers['x-order-version']).to.equal('3');
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['content-type']).to.equal('application/vnd.order+json');
      expect(res.text).to.equal('{"id":"o-1"}');
      expect(h.publisher.published).to.have.length(1);
      const published = h.publisher.published[0]!;
      expect(res.headers['x-correlation-id']).to.equal(published.correlationId);
      expect(published).to.deep.include({
        topic: 'orders.get',
        dialect: 'replygate',
        replyTopic: 'replygate.replies',
        route: 'get-order',
        method: 'GET',
        path: '/orders/o-1',
        contentType: undefined,
        key: undefined,
      });
      expect(published.body.length).to.equal(0);
      expect(h.registry.size).to.equal(0);
    });

    it('uses the route reply content type when the service sends none', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{"ok":true}' }) };
      const res = await request(h.app).get('/orders/o-1').expect(200);
      expect(res.headers['content-type']).to.equal('application/json');
      expect(res.body).to.deep.equal({ ok: true });
    });

    it('sets a deadline of now + the route timeout', async () => {
      const before = Date.now();
      await request(h.app).get('/slow').expect(200);
      const published = h.publisher.published[0]!;
      expect(published.deadline).to.be.within(before + 100, Date.now() + 100);
    });

    for (const status of [422, 409, 404, 500]) {
      it(`keeps the service's error status ${status} and body`, async () => {
        h.publisher.behaviour = {
          kind: 'reply',
          reply: () => ({ status: String(status), body: `{"reason":"service says ${status}"}` }),
        };
        const res = await request(h.app).get('/orders/o-1').expect(status);
        expect(res.body).to.deep.equal({ reason: `service says ${status}` });
        expect(res.headers['x-correlation-id']).to.match(CORRELATION_ID);
      });
    }

    it('does not let the service set X-Correlation-Id, Set-Cookie or Content-Length', async () => {
      h.publisher.behaviour = {
        kind: 'reply',
        reply: () => ({
          headers: { 'X-Correlation-Id': 'someone.else', 'Set-Cookie': 'session=evil', 'Content-Length': '1' },
          body: '{"long":"enough"}',
        }),
      };
      const res = await request(h.app).get('/orders/o-1').expect(200);
      expect(res.headers['x-correlation-id']).to.equal(h.publisher.published[0]!.correlationId);
      expect(res.headers['set-cookie']).to.equal(undefined);
      expect(res.body).to.deep.equal({ long: 'enough' });
    });

    it('answers 502 with a problem body for a malformed reply (bad status)', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ status: 'banana', body: '{}' }) };
      const res = await request(h.app).get('/orders/o-1');
      const body = expectProblem(res, 502, 'RG_REPLY_MALFORMED');
      expect(body['correlationId']).to.equal(h.publisher.published[0]!.correlationId);
    });

    it('answers 502 for a reply header with CRLF, never splitting the response', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ headers: { 'x-a': 'ok\r\nSet-Cookie: evil=1' } }) };
      const res = await request(h.app).get('/orders/o-1');
      expectProblem(res, 502, 'RG_REPLY_MALFORMED');
      expect(res.headers['set-cookie']).to.equal(undefined);
    });

    it('answers 502 for a stored reply that is not an envelope', async () => {
      h.publisher.behaviour = { kind: 'silent' };
      const pending = request(h.app)
        .get('/orders/o-1')
        .then((r) => r);
      const published = await h.publisher.nextPublished(0);
      h.store.set(published.correlationId, Buffer.from('not an envelope'));
      h.registry.notify(published.correlationId);
      expectProblem(await pending, 502, 'RG_REPLY_MALFORMED');
    });

    it('answers a NestJS error reply with its status and a JSON body', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ error: '{"status":404,"message":"no such order"}' }) };
      const res = await request(h.app).get('/nest/o-1').expect(404);
      expect(res.body).to.deep.equal({ status: 404, message: 'no such order' });
      expect(h.publisher.published[0]!.dialect).to.equal('nestjs');
    });

    it('delivers a reply that lands before the publish acknowledgement', async () => {
      // The fake answers inside publish(), before it resolves: the entry must already be parked.
      // With a 20 s route timeout, a gateway that published before parking would miss that
      // notification and find the reply only by its deadline read, 20 s later: the client timeout
      // below fails it long before that.
      h = createHarness(ROUTES, { timeoutMs: 20_000 });
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{"fast":true}' }) };
      const started = Date.now();
      const res = await request(h.app).get('/orders/o-1').timeout(2000).expect(200);
      expect(res.body).to.deep.equal({ fast: true });
      expect(Date.now() - started).to.be.below(2000);
      expect(h.registry.size).to.equal(0);
    });
  });

  describe('request errors', () => {
    it('answers 404 for an unknown route', async () => {
      const res = await request(h.app).get('/invoices/1');
      expectProblem(res, 404, 'RG_ROUTE_NOT_FOUND');
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 405 with Allow for a wrong method', async () => {
      const res = await request(h.app).delete('/orders/o-1');
      const body = expectProblem(res, 405, 'RG_METHOD_NOT_ALLOWED');
      const allow = String(res.headers['allow']).split(/,\s*/).sort();
      expect(allow).to.deep.equal(['GET', 'PUT']);
      expect(body['details']).to.deep.include({ method: 'DELETE' });
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 400 for malformed percent-encoding in the path', async () => {
      expectProblem(await request(h.app).get('/orders/%E0%A4%A'), 400, 'RG_BAD_REQUEST');
    });

    it('answers 400 for a JSON body that does not parse', async () => {
      const res = await request(h.app)
        .post('/customers/c-1/orders')
        .set('content-type', 'application/json')
        .send('{"orderId": ');
      expectProblem(res, 400, 'RG_INVALID_JSON');
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 413 for a body over the route maxBodyBytes', async () => {
      const res = await request(h.app)
        .post('/customers/c-1/orders')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ orderId: 'o-1', padding: 'x'.repeat(100) }));
      const body = expectProblem(res, 413, 'RG_BODY_TOO_LARGE');
      expect(body['details']).to.deep.equal({ limitBytes: 64 });
      expect(h.publisher.published).to.have.length(0);
    });

    it('accepts a body exactly at the route maxBodyBytes', async () => {
      const json = JSON.stringify({ orderId: 'o-1', p: '' });
      const body = json.replace('"p":""', `"p":"${'x'.repeat(64 - json.length)}"`);
      expect(Buffer.byteLength(body)).to.equal(64);
      await request(h.app).post('/customers/c-1/orders').set('content-type', 'application/json').send(body).expect(200);
    });

    it('answers 415 for a content type the route does not accept', async () => {
      const res = await request(h.app)
        .post('/customers/c-1/orders')
        .set('content-type', 'text/plain')
        .send('orderId=o-1');
      const body = expectProblem(res, 415, 'RG_UNSUPPORTED_MEDIA_TYPE');
      expect(body['details']).to.deep.include({ contentType: 'text/plain' });
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 415 for a body without a content type', async () => {
      const res = await request(h.app).post('/customers/c-1/orders').send(Buffer.from('{"orderId":"o-1"}'));
      expectProblem(res, 415, 'RG_UNSUPPORTED_MEDIA_TYPE');
    });

    it('accepts a JSON content type with parameters, and a second accepted type as raw bytes', async () => {
      await request(h.app)
        .post('/customers/c-1/orders')
        .set('content-type', 'application/json; charset=utf-8')
        .send('{"orderId":"o-1"}')
        .expect(200);
      await request(h.app).put('/orders/o-1').set('content-type', 'text/plain').send('not json at all').expect(200);
      const put = h.publisher.published[1]!;
      expect(put.body.toString()).to.equal('not json at all');
      expect(put.contentType).to.equal('text/plain');
      expect(put.key).to.equal('o-1');
    });

    it('answers 400 when the partition key is missing', async () => {
      const res = await request(h.app).post('/customers/c-1/orders').send({ other: 1 });
      const body = expectProblem(res, 400, 'RG_BAD_REQUEST');
      expect(body['details']).to.deep.equal({ key: 'body.orderId' });
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 400 when the partition key is not a scalar', async () => {
      const res = await request(h.app)
        .post('/customers/c-1/orders')
        .send({ orderId: { nested: true } });
      expectProblem(res, 400, 'RG_BAD_REQUEST');
    });

    it('publishes with the partition key from the body', async () => {
      await request(h.app).post('/customers/c-1/orders').send({ orderId: 42 }).expect(200);
      const published = h.publisher.published[0]!;
      expect(published.key).to.equal('42');
      expect(JSON.parse(published.body.toString())).to.deep.equal({ orderId: 42 });
      expect(published.contentType).to.match(/^application\/json/);
    });
  });

  describe('timeouts and unavailability', () => {
    it('answers 504 at the route timeout with the correlation id, and leaves nothing parked', async () => {
      h.publisher.behaviour = { kind: 'silent' };
      const started = Date.now();
      const res = await request(h.app).get('/slow');
      const elapsed = Date.now() - started;
      const body = expectProblem(res, 504, 'RG_REPLY_TIMEOUT');
      expect(body).to.deep.include({
        error: 'RG_REPLY_TIMEOUT',
        correlationId: h.publisher.published[0]!.correlationId,
      });
      expect(elapsed).to.be.at.least(95);
      expect(elapsed).to.be.below(100 + 1000);
      expect(h.registry.size).to.equal(0);
    });

    it('answers 503 with Retry-After when publishing fails, and leaves nothing parked', async () => {
      h.publisher.behaviour = { kind: 'reject', error: new Error('broker down') };
      const res = await request(h.app).get('/orders/o-1');
      const body = expectProblem(res, 503, 'RG_PUBLISH_FAILED');
      expect(res.headers['retry-after']).to.equal('1');
      expect(body['details']).to.deep.equal({ topic: 'orders.get' });
      expect(String(body['detail'])).to.not.contain('broker down');
      expect(h.registry.size).to.equal(0);
    });

    it('answers 503 RG_UNAVAILABLE, not 504, when the read at the deadline fails', async () => {
      // The store is unreachable: a reply may exist, so this is not the service's timeout.
      h = createHarness(ROUTES, { readReply: () => Promise.reject(new Error('redis down')) });
      h.publisher.behaviour = { kind: 'silent' };
      const res = await request(h.app).get('/slow').timeout(3000);
      const body = expectProblem(res, 503, 'RG_UNAVAILABLE');
      expect(res.headers['retry-after']).to.equal('1');
      expect(body['correlationId']).to.equal(h.publisher.published[0]!.correlationId);
      expect(await metricTotal(h.metrics.timeouts)).to.equal(0);
      expect(h.registry.size).to.equal(0);
    });

    it('answers 503 with Retry-After while the admission blocker says no, without publishing', async () => {
      h.blocker.reason = 'this replica is shutting down';
      const res = await request(h.app).get('/orders/o-1');
      const body = expectProblem(res, 503, 'RG_UNAVAILABLE');
      expect(res.headers['retry-after']).to.equal('1');
      expect(String(body['detail'])).to.contain('this replica is shutting down');
      expect(h.publisher.published).to.have.length(0);
      h.blocker.reason = undefined;
      await request(h.app).get('/orders/o-1').expect(200);
    });

    it('answers 503 RG_OVERLOADED when maxPending requests are parked', async () => {
      h = createHarness(ROUTES, { maxPending: 1 });
      h.publisher.behaviour = { kind: 'silent' };
      const first = request(h.app)
        .get('/orders/first')
        .then((r) => r);
      const parked = await h.publisher.nextPublished(0);
      expect(h.registry.size).to.equal(1);

      const res = await request(h.app).get('/orders/second');
      const body = expectProblem(res, 503, 'RG_OVERLOADED');
      expect(res.headers['retry-after']).to.equal('1');
      expect(body['details']).to.deep.equal({ maxPending: 1 });
      expect(h.publisher.published).to.have.length(1);

      h.publisher.answer(parked.correlationId, { body: '{"first":true}' });
      const firstRes = await first;
      expect(firstRes.status).to.equal(200);
      expect(firstRes.body).to.deep.equal({ first: true });
      expect(h.registry.size).to.equal(0);
    });

    it('answers 503 to a parked request cancelled by shutdown', async () => {
      h.publisher.behaviour = { kind: 'silent' };
      const pending = request(h.app)
        .get('/orders/o-1')
        .timeout(2000)
        .then((r) => r);
      await h.publisher.nextPublished(0);
      h.registry.cancelAll('shutdown');
      const res = await pending;
      expectProblem(res, 503, 'RG_UNAVAILABLE');
    });
  });

  describe('correlation ids', () => {
    it('puts our X-Correlation-Id on successes and on every kind of error', async () => {
      const responses: Response[] = [
        await request(h.app).get('/orders/o-1'),
        await request(h.app).get('/nowhere'),
        await request(h.app).patch('/orders/o-1'),
        await request(h.app).post('/customers/c-1/orders').set('content-type', 'application/json').send('{'),
        await request(h.app).post('/customers/c-1/orders').set('content-type', 'text/plain').send('x'),
        await request(h.app)
          .post('/customers/c-1/orders')
          .send({ orderId: 'x'.repeat(100) }),
        await request(h.app).post('/customers/c-1/orders').send({}),
      ];
      expect(responses.map((r) => r.status)).to.deep.equal([200, 404, 405, 400, 415, 413, 400]);
      const ids = responses.map((r) => String(r.headers['x-correlation-id']));
      for (const id of ids) expect(id).to.match(CORRELATION_ID);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('ignores a client-supplied X-Correlation-Id', async () => {
      const theirs = `${INSTANCE_ID}.AAAAAAAAAAAAAAAAAAAAAA`;
      const res = await request(h.app).get('/orders/o-1').set('x-correlation-id', theirs).expect(200);
      expect(res.headers['x-correlation-id']).to.match(CORRELATION_ID);
      expect(res.headers['x-correlation-id']).to.not.equal(theirs);
      expect(h.publisher.published[0]!.correlationId).to.equal(res.headers['x-correlation-id']);

      const foreign = await request(h.app).get('/nowhere').set('x-correlation-id', 'client-chosen');
      expect(foreign.headers['x-correlation-id']).to.match(CORRELATION_ID);
      expect(foreign.body.correlationId).to.equal(foreign.headers['x-correlation-id']);
    });
  });

  describe('what reaches the service', () => {
    it('does not forward Authorization or Cookie by default', async () => {
      await request(h.app)
        .get('/orders/o-1')
        .set('authorization', 'Bearer secret')
        .set('cookie', 'session=s')
        .set('accept', 'application/json')
        .expect(200);
      const headers = h.publisher.published[0]!.headers;
      expect(headers).to.not.have.property('authorization');
      expect(headers).to.not.have.property('cookie');
      expect(headers['accept']).to.equal('application/json');
    });

    it('does not forward Authorization or Cookie listed in forwardHeaders without the route opting in', async () => {
      await request(h.app)
        .get('/listed')
        .set('authorization', 'Bearer secret')
        .set('cookie', 'session=s')
        .set('x-tenant', 'acme')
        .expect(200);
      expect(h.publisher.published[0]!.headers).to.deep.equal({ 'x-tenant': 'acme' });
    });

    it('does not forward Authorization or Cookie named only in the gateway default list', async () => {
      h = createHarness(ROUTES, { forwardHeaders: ['authorization', 'cookie', 'accept'] });
      await request(h.app)
        .get('/orders/o-1')
        .set('authorization', 'Bearer secret')
        .set('cookie', 'session=s')
        .set('accept', 'text/plain')
        .expect(200);
      expect(h.publisher.published[0]!.headers).to.deep.equal({ accept: 'text/plain' });
    });

    it('forwards Authorization and Cookie when the route lists them and opts in', async () => {
      await request(h.app)
        .get('/secure')
        .set('authorization', 'Bearer t')
        .set('cookie', 'session=s')
        .set('x-tenant', 'acme')
        .expect(200);
      expect(h.publisher.published[0]!.headers).to.deep.equal({
        authorization: 'Bearer t',
        cookie: 'session=s',
        'x-tenant': 'acme',
      });
    });

    it('forwards Authorization and Cookie when the route opts in with the flags alone', async () => {
      await request(h.app).get('/secure-flags').set('authorization', 'Bearer t').set('cookie', 'session=s').expect(200);
      expect(h.publisher.published[0]!.headers).to.deep.include({ authorization: 'Bearer t', cookie: 'session=s' });
    });

    it('forwards allow-listed headers only, with lower-case names', async () => {
      await request(h.app)
        .get('/orders/o-1')
        .set('Accept', 'application/json')
        .set('X-Request-Id', 'req-7')
        .set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
        .set('X-Secret-Internal', 'no')
        .expect(200);
      expect(h.publisher.published[0]!.headers).to.deep.equal({
        accept: 'application/json',
        'x-request-id': 'req-7',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
    });

    it('passes decoded path parameters and the query string', async () => {
      await request(h.app).get('/customers/c%201/search?region=eu&tag=a&tag=b&q=%C3%A9t%C3%A9').expect(200);
      const published = h.publisher.published[0]!;
      expect({ ...published.params }).to.deep.equal({ customerId: 'c 1' });
      expect({ ...published.query }).to.deep.equal({ region: 'eu', tag: ['a', 'b'], q: 'été' });
      expect(published.key).to.equal('eu');
      expect(published.path).to.equal('/customers/c%201/search');
    });

    it('answers 400 when a query partition key is absent', async () => {
      expectProblem(await request(h.app).get('/customers/c-1/search'), 400, 'RG_BAD_REQUEST');
    });

    it('does not pollute Object.prototype with a __proto__ payload', async () => {
      const payload = '{"orderId":"o-1","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
      await request(h.app)
        .post('/pollute?__proto__[polluted]=true&constructor[prototype][polluted]=true')
        .set('content-type', 'application/json')
        .send(payload)
        .expect(200);
      await request(h.app).get('/orders/__proto__?__proto__=x').expect(200);
      expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
      expect(Object.prototype).to.not.have.property('polluted');
      const published = h.publisher.published[0]!;
      expect(published.body.toString()).to.equal(payload);
      expect(published.key).to.equal('o-1');
    });
  });

  describe('Idempotency-Key', () => {
    beforeEach(() => {
      h = createHarness(ROUTES, { idempotency: true });
    });

    function create(key: string, body: unknown = { orderId: 'o-1' }) {
      return request(h.app)
        .post('/customers/c-1/orders')
        .set('idempotency-key', key)
        .send(body as object);
    }

    it('answers a retry with the first reply, without publishing again', async () => {
      h.publisher.behaviour = {
        kind: 'reply',
        reply: (r) => ({ status: '201', body: `{"n":${h.publisher.published.indexOf(r)}}` }),
      };
      const first = await create('k-1').expect(201);
      const retry = await create('k-1').expect(201);
      expect(h.publisher.published).to.have.length(1);
      expect(retry.body).to.deep.equal(first.body);
      expect(retry.headers['x-correlation-id']).to.equal(first.headers['x-correlation-id']);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
      expect(first.headers['idempotent-replayed']).to.equal(undefined);
    });

    it('publishes requests with different keys separately', async () => {
      await create('k-1').expect(200);
      await create('k-2').expect(200);
      expect(h.publisher.published).to.have.length(2);
    });

    it('answers 422 when a key is reused with a different request', async () => {
      await create('k-1', { orderId: 'o-1' }).expect(200);
      const res = await create('k-1', { orderId: 'o-2' });
      const body = expectProblem(res, 422, 'RG_IDEMPOTENCY_KEY_REUSED');
      // The first request's correlation id is never shown to a request that differs from it.
      expect(body['details']).to.equal(undefined);
      expect(JSON.stringify(body)).not.to.include(h.publisher.published[0]!.correlationId);
      expect(res.headers['x-correlation-id']).not.to.equal(h.publisher.published[0]!.correlationId);
      expect(h.publisher.published).to.have.length(1);
    });

    it('answers 400 for a malformed key', async () => {
      expectProblem(await create('has space'), 400, 'RG_BAD_REQUEST');
      expectProblem(await create('x'.repeat(256)), 400, 'RG_BAD_REQUEST');
      expect(h.publisher.published).to.have.length(0);
    });

    it('lets a retry that arrives while the first attempt is in flight share its reply', async () => {
      h.publisher.behaviour = { kind: 'silent' };
      const first = create('k-1').then((r) => r);
      const published = await h.publisher.nextPublished(0);
      const retry = create('k-1').then((r) => r);
      await waitFor(() => h.registry.size === 2, 2000, 'the retry to park');
      h.publisher.answer(published.correlationId, { body: '{"once":true}' });
      const [a, b] = await Promise.all([first, retry]);
      expect([a.status, b.status]).to.deep.equal([200, 200]);
      expect(a.body).to.deep.equal({ once: true });
      expect(b.body).to.deep.equal({ once: true });
      expect(h.publisher.published).to.have.length(1);
    });

    it('gives the key back when publishing fails, so a retry publishes again', async () => {
      h.publisher.behaviour = { kind: 'reject', error: new Error('broker down') };
      expectProblem(await create('k-1'), 503, 'RG_PUBLISH_FAILED');
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{"second":true}' }) };
      const retry = await create('k-1').expect(200);
      expect(retry.body).to.deep.equal({ second: true });
      expect(retry.headers['idempotent-replayed']).to.equal(undefined);
      expect(h.publisher.published).to.have.length(2);
    });

    it('answers a retry with 504 naming the first id when the first reply never comes', async () => {
      h = createHarness(ROUTES, { idempotency: true, timeoutMs: 50 });
      h.publisher.behaviour = { kind: 'silent' };
      const first = await create('k-1');
      expectProblem(first, 504, 'RG_REPLY_TIMEOUT');
      const retry = await create('k-1');
      const body = expectProblem(retry, 504, 'RG_REPLY_TIMEOUT');
      expect(body['correlationId']).to.equal(first.headers['x-correlation-id']);
      expect(h.publisher.published).to.have.length(1);
      expect(h.registry.size).to.equal(0);
    });

    it('answers a retry that follows a failed publish instead of leaving it hanging', async () => {
      h.publisher.behaviour = { kind: 'hold' };
      const first = create('k-1').then((r) => r);
      await h.publisher.nextPublished(0);
      const retry = create('k-1')
        .timeout(2000)
        .then((r) => r);
      await waitFor(() => h.registry.size === 2, 2000, 'the retry to park');
      h.publisher.held[0]!.reject(new Error('broker down'));
      expectProblem(await first, 503, 'RG_PUBLISH_FAILED');
      const res = await retry;
      expect(res.status).to.equal(503);
    });
  });

  describe('operational endpoints', () => {
    it('answers /healthz 200', async () => {
      const res = await request(h.app).get('/healthz').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });

    it('answers /readyz 503 until started, 200 once started, 503 again when draining', async () => {
      // createHarness marks the replica started; a fresh Readiness shows the before state.
      const readiness = new Readiness();
      const app = createApp({ readiness, metrics: h.metrics, log: silentLogger() });

      const before = await request(app).get('/readyz').expect(503);
      expect(before.body).to.deep.include({ status: 'not-ready', ready: false });
      expect(before.headers['retry-after']).to.equal('1');

      readiness.markStarted();
      const ready = await request(app).get('/readyz').expect(200);
      expect(ready.body).to.deep.include({ status: 'ready', ready: true, draining: false });

      readiness.markDraining();
      const draining = await request(app).get('/readyz').expect(503);
      expect(draining.body).to.deep.include({ status: 'not-ready', draining: true });
    });

    it('answers /readyz 503 while a readiness check fails', async () => {
      let redisUp = false;
      h.readiness.add({ name: 'redis', ready: () => redisUp });
      const down = await request(h.app).get('/readyz').expect(503);
      expect(down.body.checks).to.deep.equal({ started: true, redis: false });
      redisUp = true;
      await request(h.app).get('/readyz').expect(200);
    });

    it('exports replygate_requests_total on /metrics, counting answered requests', async () => {
      await request(h.app).get('/orders/o-1').expect(200);
      await request(h.app).get('/nowhere').expect(404);
      const res = await request(h.app).get('/metrics').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/plain/);
      expect(res.text).to.contain('# TYPE replygate_requests_total counter');
      expect(res.text).to.match(/replygate_requests_total\{route="get-order",status="200"\} 1/);
      expect(res.text).to.match(/replygate_requests_total\{route="unmatched",status="404"\} 1/);
    });

    it('does not route the reserved paths to the gateway', async () => {
      await request(h.app).get('/healthz').expect(200);
      expect(h.publisher.published).to.have.length(0);
    });
  });
});
