import { createServer, type Server } from 'node:http';
import { expect } from 'chai';
import request, { type Response } from 'supertest';
import type { AsyncReplyRecord, AsyncReplyRegistry } from '../../src/exchange/async-reply-registry';
import { createRepliesRouter } from '../../src/ingress/http/replies-router';
import { WatcherLimiter, type WatcherLimits } from '../../src/exchange/watcher-limiter';
import { parseRoutes } from '../../src/config/routes-file';
import { PendingRegistry } from '../../src/exchange/pending-registry';
import { RequestBroker } from '../../src/exchange/request-broker';
import { createStoredReplyDecoder } from '../../src/exchange/stored-reply-decoder';
import { createApp } from '../../src/ingress/http/create-app';
import { createGatewayHandler } from '../../src/ingress/http/gateway-handler';
import { RouteMatcher } from '../../src/routing/route-matcher';
import { silentLogger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { newCorrelationId } from '../../src/protocol/correlation-id';
import { DEFAULT_REPLY_HEADER_LIMITS } from '../../src/protocol/reply-headers';
import { Readiness } from '../../src/observability/readiness';
import type { ReplyStore } from '../../src/exchange/reply-store';
import { waitFor } from '../support/wait-for';
import { FakePublisher, INSTANCE_ID } from './gateway-harness';

const ROUTES = `
routes:
  - { name: orders, method: GET, path: /orders/:id, topic: orders }
`;
const TOKEN = 'the-right-token';
const CORRELATION_ID = new RegExp(`^${INSTANCE_ID}\\.[A-Za-z0-9_-]{22}$`);

/** Async records in memory: every id in `ids` is known, fetchable with {@link TOKEN} only. */
class FakeAsyncRecords {
  readonly ids = new Set<string>();
  async lookup(id: string, token: string | undefined): Promise<AsyncReplyRecord | undefined> {
    if (!this.ids.has(id) || token !== TOKEN) return undefined;
    return { route: 'orders', replyContentType: 'application/json', owner: 'ip:127.0.0.1' };
  }
}

interface Rig {
  server: Server;
  registry: PendingRegistry;
  publisher: FakePublisher;
  records: FakeAsyncRecords;
  metrics: GatewayMetrics;
}

/** The gateway handler and the replies router over one registry, as a replica wires them. */
function createRig(limits: WatcherLimits, maxPending = 100): Rig {
  const store = new Map<string, Buffer>();
  const registry = new PendingRegistry((id) => Promise.resolve(store.get(id) ?? null));
  const publisher = new FakePublisher(store, () => registry);
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const log = silentLogger();
  const broker = new RequestBroker(publisher, registry, metrics, log);
  const replyDecoder = createStoredReplyDecoder({ limits: DEFAULT_REPLY_HEADER_LIMITS, metrics, log });
  const records = new FakeAsyncRecords();
  const readiness = new Readiness();
  readiness.markStarted();
  const matcher = new RouteMatcher(parseRoutes(ROUTES, { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] }));
  const gatewayHandler = createGatewayHandler({
    config: { instanceId: INSTANCE_ID, replyTopic: 'replies', maxPending },
    matcher: () => matcher,
    broker,
    registry,
    metrics,
    log,
    admissionBlocker: () => undefined,
    replyDecoder,
  });
  const replies = createRepliesRouter({
    registry: records as unknown as AsyncReplyRegistry,
    store: { readReply: (id: string) => Promise.resolve(store.get(id) ?? null) } as unknown as ReplyStore,
    broker,
    maxWaitMs: 20_000,
    instanceId: INSTANCE_ID,
    watchers: new WatcherLimiter(limits),
    replyDecoder,
  });
  const app = createApp({ readiness, metrics, log, gatewayHandler, routers: [replies] });
  return { server: createServer(app).listen(0), registry, publisher, records, metrics };
}

function expectNamedResponse(res: Response): void {
  expect(res.headers['x-correlation-id']).to.match(CORRELATION_ID);
  expect((res.body as { correlationId?: string }).correlationId).to.equal(res.headers['x-correlation-id']);
}

describe('GET /v1/replies (in-process)', () => {
  let rig: Rig;
  afterEach(() => {
    rig.registry.cancelAll('test-end');
    rig.server.close();
  });

  const knownId = () => {
    const id = newCorrelationId(INSTANCE_ID);
    rig.records.ids.add(id);
    return id;
  };
  const longPoll = (id: string) =>
    request(rig.server).get(`/v1/replies/${id}`).set('prefer', 'wait=15').set('replygate-reply-token', TOKEN);

  describe('watchers (long-polls and SSE streams)', () => {
    it('never count against REPLYGATE_MAX_PENDING: requests still park while watchers wait', async () => {
      rig = createRig({ maxWatchers: 10, maxWatchersPerReply: 10 }, 2);
      rig.publisher.behaviour = { kind: 'silent' };
      const id = knownId();
      const polls = [longPoll(id), longPoll(id), longPoll(id)].map((p) => p.then((r) => r));
      const stream = request(rig.server)
        .get(`/v1/replies/${id}/events?token=${TOKEN}`)
        .then((r) => r);
      await waitFor(() => rig.registry.watchers === 4, 2000, 'four watchers to park');
      expect(rig.registry.size).to.equal(0);
      // Two requests fit in maxPending=2 although four watchers wait.
      const settled: number[] = [];
      const requests = [1, 2].map((n) =>
        request(rig.server)
          .get(`/orders/${n}`)
          .then((r) => {
            settled.push(r.status);
            return r;
          }),
      );
      await waitFor(() => rig.registry.size === 2 || settled.length > 0, 2000, 'both requests to park');
      expect(settled, 'requests answered before their replies (refused)').to.deep.equal([]);
      rig.publisher.answer(id, { body: '{"done":true}' });
      for (const p of rig.publisher.published) rig.publisher.answer(p.correlationId, { body: '{}' });
      for (const res of await Promise.all(polls)) expect(res.status).to.equal(200);
      expect((await stream).text).to.include('event: reply');
      for (const res of await Promise.all(requests)) expect(res.status).to.equal(200);
      expect(rig.registry.watchers).to.equal(0);
    });

    it('answers 429 with Retry-After beyond REPLYGATE_MAX_WATCHERS_PER_REPLY, counting streams too', async () => {
      rig = createRig({ maxWatchers: 10, maxWatchersPerReply: 2 });
      const id = knownId();
      const first = longPoll(id).then((r) => r);
      const stream = request(rig.server)
        .get(`/v1/replies/${id}/events`)
        .set('replygate-reply-token', TOKEN)
        .then((r) => r);
      await waitFor(() => rig.registry.watchers === 2, 2000, 'two watchers');
      for (const refused of [
        await longPoll(id),
        await request(rig.server).get(`/v1/replies/${id}/events?token=${TOKEN}`),
      ]) {
        expect(refused.status).to.equal(429);
        expect(refused.headers['retry-after']).to.equal('1');
        expect(refused.body).to.include({ error: 'RG_RATE_LIMITED' });
        expect(refused.body.details).to.deep.equal({ limit: 2, setting: 'REPLYGATE_MAX_WATCHERS_PER_REPLY' });
      }
      // Another reply's watchers are not affected.
      const other = knownId();
      const otherPoll = longPoll(other).then((r) => r);
      await waitFor(() => rig.registry.watchers === 3, 2000, 'the other reply to be watched');
      rig.publisher.answer(id, { body: '{}' });
      rig.publisher.answer(other, { body: '{}' });
      expect((await first).status).to.equal(200);
      expect((await otherPoll).status).to.equal(200);
      expect((await stream).status).to.equal(200);
      // Places are given back: the reply can be watched again.
      expect((await longPoll(id)).status).to.equal(200);
    });

    it('answers 503 with Retry-After beyond REPLYGATE_MAX_WATCHERS on the replica', async () => {
      rig = createRig({ maxWatchers: 2, maxWatchersPerReply: 2 });
      const ids = [knownId(), knownId(), knownId()];
      const held = [longPoll(ids[0]!), longPoll(ids[1]!)].map((p) => p.then((r) => r));
      await waitFor(() => rig.registry.watchers === 2, 2000, 'two watchers');
      const refused = await longPoll(ids[2]!);
      expect(refused.status).to.equal(503);
      expect(refused.headers['retry-after']).to.equal('1');
      expect(refused.body).to.include({ error: 'RG_OVERLOADED' });
      expect(refused.body.details).to.deep.equal({ limit: 2, setting: 'REPLYGATE_MAX_WATCHERS' });
      expectNamedResponse(refused);
      // A plain fetch (no wait) is no watcher and is still answered.
      expect((await request(rig.server).get(`/v1/replies/${ids[2]!}?token=${TOKEN}`)).status).to.equal(202);
      for (const id of ids) rig.publisher.answer(id, { body: '{}' });
      for (const res of await Promise.all(held)) expect(res.status).to.equal(200);
    });
  });

  describe('errors', () => {
    beforeEach(() => {
      rig = createRig({ maxWatchers: 10, maxWatchersPerReply: 10 });
    });

    it('never echoes a malformed id, and names the response with its own correlation id', async () => {
      const hostile = `a\r\nSet-Cookie: x=1${'z'.repeat(9000)}`;
      for (const path of [
        `/v1/replies/${encodeURIComponent(hostile)}`,
        `/v1/replies/${encodeURIComponent(hostile)}/events`,
      ]) {
        const res = await request(rig.server).get(path);
        expect(res.status).to.equal(404);
        expect(res.headers['set-cookie']).to.equal(undefined);
        expect(res.text).not.to.include('Set-Cookie');
        expect(res.text.length).to.be.below(1000);
        expect(res.body).to.include({ error: 'RG_REPLY_NOT_FOUND', detail: 'invalid reply id' });
        expect(res.body.details).to.deep.equal({ idLength: hostile.length });
        expectNamedResponse(res);
      }
    });

    it('answers an unknown id, a missing token and a wrong token alike, naming none of them', async () => {
      const id = knownId();
      const unknown = newCorrelationId(INSTANCE_ID);
      const answers = [
        await request(rig.server).get(`/v1/replies/${unknown}?token=${TOKEN}`),
        await request(rig.server).get(`/v1/replies/${id}`),
        await request(rig.server).get(`/v1/replies/${id}`).set('replygate-reply-token', `${TOKEN}x`),
        await request(rig.server).get(`/v1/replies/${id}/events?token=nope`),
      ];
      for (const res of answers) {
        expect(res.status).to.equal(404);
        expectNamedResponse(res);
        expect(res.text).not.to.include(id);
        expect(res.text).not.to.include(unknown);
        const { correlationId: _ignored, ...rest } = res.body as Record<string, unknown>;
        expect(rest).to.deep.equal({
          type: 'urn:replygate:error:RG_REPLY_NOT_FOUND',
          title: 'RG_REPLY_NOT_FOUND',
          status: 404,
          detail: 'No reply with this id for this retrieval token (unknown, expired, or the token is missing or wrong)',
          error: 'RG_REPLY_NOT_FOUND',
        });
      }
    });

    it('names a fetched reply by its own id, and keeps the token out of Location and shared caches', async () => {
      const id = knownId();
      const res = await request(rig.server).get(`/v1/replies/${id}`).set('replygate-reply-token', TOKEN);
      expect(res.status).to.equal(202);
      expect(res.headers['x-correlation-id']).to.equal(id);
      expect(res.headers['cache-control']).to.equal('no-store');
      expect(res.headers['location']).to.equal(`/v1/replies/${id}`);
    });
  });
});
