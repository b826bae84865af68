import { Writable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { GatewayApp } from '../../src/ingress/http/create-app';
import pino from 'pino';
import request from 'supertest';
import { validate } from '@readme/openapi-parser';
import { createAdminRouter } from '../../src/ingress/admin/admin-router';
import { RouteTable } from '../../src/routing/route-table';
import { parseRoutes } from '../../src/config/routes-file';
import { PendingRegistry } from '../../src/exchange/pending-registry';
import { RequestBroker } from '../../src/exchange/request-broker';
import { createApp } from '../../src/ingress/http/create-app';
import { createGatewayHandler } from '../../src/ingress/http/gateway-handler';
import { silentLogger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { createRequestObserver } from '../../src/observability/request-observer';
import { noopTracer } from '../../src/observability/gateway-tracer';
import { createOpenApiRouter } from '../../src/ingress/admin/openapi-router';
import { encodeEnvelope, type ReplyEnvelopeMeta } from '../../src/protocol/reply-envelope';
import { Readiness } from '../../src/observability/readiness';
import { waitFor } from '../support/wait-for';
import { FakePublisher, INSTANCE_ID } from './gateway-harness';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: ['traceparent'] } as unknown as Parameters<
  typeof parseRoutes
>[1];
const ROUTES_V1 = `
routes:
  - { name: get-order, method: GET, path: /orders/:orderId, topic: orders.get }
  - { name: create-order, method: POST, path: /orders, topic: orders.create }
`;
const ROUTES_V2 = `
routes:
  - { name: get-order-v2, method: GET, path: /orders/:orderId, topic: orders.get.v2 }
  - { name: ping, method: GET, path: /ping, topic: ping }
`;
const TOKEN = 'test-admin-token-0123456789';
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_TP = `00-${CLIENT_TRACE}-00f067aa0ba902b7-01`;

interface ObsHarness {
  app: GatewayApp;
  publisher: FakePublisher;
  registry: PendingRegistry;
  store: Map<string, Buffer>;
  table: RouteTable;
  routesFile: string;
  logLines: Record<string, unknown>[];
}

/** The gateway with the observability hook, admin and OpenAPI routers, around a fake publisher. */
function createObsHarness(adminToken: string | undefined = TOKEN): ObsHarness {
  const routesFile = join(mkdtempSync(join(tmpdir(), 'rg-obs-')), 'routes.yaml');
  writeFileSync(routesFile, ROUTES_V1);
  const table = new RouteTable(parseRoutes(ROUTES_V1, DEFAULTS), {
    file: routesFile,
    defaults: DEFAULTS,
    log: silentLogger(),
  });
  const store = new Map<string, Buffer>();
  const registry = new PendingRegistry((id) => Promise.resolve(store.get(id) ?? null));
  const publisher = new FakePublisher(store, () => registry);
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const readiness = new Readiness();
  readiness.markStarted();
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const log = silentLogger();
  const config = { instanceId: INSTANCE_ID, replyTopic: 'replygate.replies', maxPending: 100 };
  const gatewayHandler = createGatewayHandler({
    config,
    matcher: () => table.matcher,
    broker: new RequestBroker(publisher, registry, metrics, log),
    registry,
    metrics,
    log,
    admissionBlocker: () => undefined,
    observe: createRequestObserver({ tracer: noopTracer, log: pino({ level: 'info' }, sink) }),
  });
  const routers = [
    createAdminRouter({
      token: adminToken,
      routes: () => table.routes,
      pending: () => ({ total: registry.size, limit: 100, byRoute: registry.countsByRoute() }),
      settings: () => ({ replyTtlMs: 60_000, role: 'all' }),
      reload: () => table.reload(),
    }),
    createOpenApiRouter(() => table.routes),
  ];
  const app = createApp({ readiness, metrics, log, gatewayHandler, routers });
  return { app, publisher, registry, store, table, routesFile, logLines };
}

describe('HTTP gateway: tracing, request logs, OpenAPI, admin', () => {
  let h: ObsHarness;
  beforeEach(() => {
    h = createObsHarness();
  });
  afterEach(() => {
    h.registry.cancelAll('test-end');
  });

  describe('traceparent', () => {
    it("continues the client's trace into the published request and back from the service", async () => {
      h.publisher.behaviour = { kind: 'hold' };
      const answered = request(h.app)
        .get('/orders/o-1')
        .set('traceparent', CLIENT_TP)
        .set('tracestate', 'vendor=1')
        .then((r) => r);
      await waitFor(() => h.publisher.held.length === 1, 2000, 'the request to publish');
      const held = h.publisher.held[0]!;
      const published = held.request;
      expect(published.trace!.traceId).to.equal(CLIENT_TRACE);
      expect(published.trace!.spanId).to.not.equal('00f067aa0ba902b7');
      expect(published.trace!.state).to.equal('vendor=1');
      // The service's hop, as the relay stores it in the envelope meta.
      const serviceTp = `00-${CLIENT_TRACE}-aaaaaaaaaaaaaaaa-01`;
      const meta: ReplyEnvelopeMeta = {
        id: published.correlationId,
        receivedAt: Date.now(),
        topic: 'replies',
        partition: 0,
        offset: '0',
        traceparent: serviceTp,
      };
      held.resolve();
      h.store.set(published.correlationId, encodeEnvelope({ meta, body: Buffer.from('{}') }));
      h.registry.notify(published.correlationId);
      const res = await answered;
      expect(res.status).to.equal(200);
      expect(res.headers['traceparent']).to.equal(serviceTp);
    });

    it('starts a trace when the client sent none, and answers errors with it too', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{}' }) };
      const ok = await request(h.app).get('/orders/o-2').expect(200);
      const trace = h.publisher.published[0]!.trace!;
      expect(trace.traceId).to.match(/^[0-9a-f]{32}$/);
      expect(ok.headers['traceparent']).to.equal(`00-${trace.traceId}-${trace.spanId}-01`);
      const missing = await request(h.app).get('/nope').set('traceparent', CLIENT_TP).expect(404);
      expect(missing.headers['traceparent']).to.match(new RegExp(`^00-${CLIENT_TRACE}-[0-9a-f]{16}-01$`));
    });

    it("ignores a reply traceparent of another trace (keeps the gateway's)", async () => {
      const foreign = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{}', traceparent: foreign }) };
      const res = await request(h.app).get('/orders/o-3').set('traceparent', CLIENT_TP).expect(200);
      const gatewayHop = h.publisher.published[0]!.trace!;
      expect(gatewayHop.traceId).to.equal(CLIENT_TRACE);
      expect(res.headers['traceparent']).to.equal(`00-${CLIENT_TRACE}-${gatewayHop.spanId}-01`);
    });

    it('continues from a reply traceparent of the same trace', async () => {
      // The counterpart of the test above: a same-trace hop is taken, so the refusal above is a choice.
      const serviceHop = `00-${CLIENT_TRACE}-cccccccccccccccc-01`;
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{}', traceparent: serviceHop }) };
      const res = await request(h.app).get('/orders/o-4').set('traceparent', CLIENT_TP).expect(200);
      expect(res.headers['traceparent']).to.equal(serviceHop);
    });
  });

  describe('request log', () => {
    it('writes one line per request with correlation id, route, method, status, latency and trace id', async () => {
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ status: '201', body: '{}' }) };
      const res = await request(h.app).post('/orders').send({ a: 1 }).set('traceparent', CLIENT_TP).expect(201);
      await request(h.app).get('/nope').expect(404);
      await waitFor(() => h.logLines.length === 2, 2000, 'two request log lines');
      const [first, second] = h.logLines;
      expect(first).to.include({
        msg: 'request',
        correlationId: res.headers['x-correlation-id'],
        route: 'create-order',
        method: 'POST',
        status: 201,
        traceId: CLIENT_TRACE,
      });
      expect(first!['latencyMs']).to.be.a('number').at.least(0);
      expect(second).to.include({ route: 'unmatched', status: 404 });
    });
  });

  describe('GET /openapi.json', () => {
    it('serves a valid OpenAPI 3.1 document of the routes in force', async () => {
      const res = await request(h.app).get('/openapi.json').expect(200).expect('content-type', /json/);
      const result = await validate(res.body as Parameters<typeof validate>[0]);
      expect(result.valid, JSON.stringify(result)).to.equal(true);
      const replies = ['/v1/replies/{id}', '/v1/replies/{id}/events'];
      expect(Object.keys((res.body as { paths: object }).paths)).to.deep.equal([
        '/orders/{orderId}',
        '/orders',
        ...replies,
      ]);
      writeFileSync(h.routesFile, ROUTES_V2);
      h.table.reload();
      const after = await request(h.app).get('/openapi.json').expect(200);
      expect(Object.keys((after.body as { paths: object }).paths)).to.deep.equal([
        '/orders/{orderId}',
        '/ping',
        ...replies,
      ]);
    });
  });

  describe('admin endpoints', () => {
    const auth = `Bearer ${TOKEN}`;

    it('refuses without or with a wrong token (401 problem), never reaching a service', async () => {
      for (const header of [undefined, 'Bearer wrong-token-0123456789', TOKEN]) {
        const req = request(h.app).get('/admin/routes');
        if (header !== undefined) req.set('authorization', header);
        const res = await req.expect(401);
        expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
        expect(res.headers['www-authenticate']).to.match(/^Bearer/);
        expect((res.body as { error: string }).error).to.equal('RG_UNAUTHENTICATED');
      }
      expect(h.publisher.published).to.have.length(0);
    });

    it('is off (404) without a token', async () => {
      const off = createObsHarness(''); // as the config gives it when REPLYGATE_ADMIN_TOKEN is unset or empty
      const res = await request(off.app).get('/admin/routes').set('authorization', `Bearer ${TOKEN}`).expect(404);
      expect((res.body as { error: string }).error).to.equal('RG_ROUTE_NOT_FOUND');
      expect(off.publisher.published).to.have.length(0);
    });

    it('shows routes, pending by route and settings', async () => {
      h.publisher.behaviour = { kind: 'hold' };
      const parked = request(h.app)
        .get('/orders/o-9')
        .then((r) => r);
      await waitFor(() => h.registry.size === 1, 2000, 'the request to park');
      const routes = await request(h.app).get('/admin/routes').set('authorization', auth).expect(200);
      expect((routes.body as { routes: { name: string }[] }).routes.map((r) => r.name)).to.deep.equal([
        'get-order',
        'create-order',
      ]);
      const pending = await request(h.app).get('/admin/pending').set('authorization', auth).expect(200);
      expect(pending.body).to.deep.equal({ total: 1, limit: 100, byRoute: { 'get-order': 1 } });
      const settings = await request(h.app).get('/admin/settings').set('authorization', auth).expect(200);
      expect(settings.body).to.deep.include({ replyTtlMs: 60_000 });
      const held = h.publisher.held[0]!;
      held.resolve();
      h.publisher.answer(held.request.correlationId, { body: '{"ok":true}' });
      expect((await parked).status).to.equal(200);
    });

    it('reloads: a good file swaps routes without touching a request in flight; a bad one keeps them', async () => {
      h.publisher.behaviour = { kind: 'hold' };
      const inFlight = request(h.app)
        .get('/orders/o-7')
        .then((r) => r);
      await waitFor(() => h.publisher.held.length === 1, 2000, 'the request to publish');

      writeFileSync(h.routesFile, ROUTES_V2);
      const ok = await request(h.app).post('/admin/reload').set('authorization', auth).expect(200);
      expect(ok.body).to.deep.include({ reloaded: true, routes: 2 });

      // The request routed before the reload finishes on its old route.
      const held = h.publisher.held[0]!;
      expect(held.request.route).to.equal('get-order');
      held.resolve();
      h.publisher.answer(held.request.correlationId, { body: '{"v":1}' });
      const answered = await inFlight;
      expect(answered.status).to.equal(200);
      expect(answered.text).to.equal('{"v":1}');

      // New requests take the new table.
      h.publisher.behaviour = { kind: 'reply', reply: () => ({ body: '{}' }) };
      await request(h.app).get('/ping').expect(200);
      expect(h.publisher.published.at(-1)!.topic).to.equal('ping');

      writeFileSync(h.routesFile, 'routes:\n  - { name: broken, method: FETCH, path: /x, topic: t }\n');
      const bad = await request(h.app).post('/admin/reload').set('authorization', auth).expect(422);
      expect((bad.body as { error: string }).error).to.equal('RG_ROUTES_INVALID');
      expect((bad.body as { details: { issues: string[] } }).details.issues.join('\n')).to.match(/method/);
      await request(h.app).get('/ping').expect(200);
    });
  });
});
