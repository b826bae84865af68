import { expect } from 'chai';
import type { Responder } from '../../src/responder/responder-options';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  uniqueGatewayNames,
  writeRoutes,
  startEcho,
  startReplicas,
} from '../support/gateway-fixture';

/**
 * Async request and retrieval across replicas: a request made on one replica, its reply fetched,
 * long-polled or streamed (SSE) through another, on real Kafka and Redis.
 */
describe('integration: async 202, retrieval, long-poll and SSE across replicas', function () {
  this.timeout(120_000);
  let stack: TestStack;
  const echoTopic = unique('async.echo');
  const replicas: ChildReplica[] = [];
  let echo: Responder;
  const base = (i: number) => `http://127.0.0.1:${replicas[i]!.port}`;

  before(async function () {
    stack = await useTestStack();
    const names = uniqueGatewayNames('async');
    await createTopics(stack, [echoTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, timeoutMs: 30000 }
  - { name: slow, method: GET, path: /slow/:id, topic: ${echoTopic}, timeoutMs: 300, timeoutResponse: 202 }
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes, REPLYGATE_MAX_WAIT_MS: '10000' });
    replicas.push(...(await startReplicas(env, ['http', 'http', 'relay'])));
    echo = await startEcho(stack, echoTopic);
  });

  after(async function () {
    await echo?.stop();
    await Promise.allSettled(replicas.map((r) => r.stop()));
  });

  it('answers Prefer: respond-async with 202 and a Location another replica serves, long-polled', async function () {
    const accepted = await fetch(`${base(0)}/echo/a1?delayMs=1000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{"n":1}',
    });
    expect(accepted.status).to.equal(202);
    expect(accepted.headers.get('preference-applied')).to.equal('respond-async');
    const location = accepted.headers.get('location')!;
    const id = accepted.headers.get('x-correlation-id')!;
    expect(location).to.equal(`/v1/replies/${encodeURIComponent(id)}`);
    const token = accepted.headers.get('replygate-reply-token')!;
    // Right away it is still pending (the service takes a second).
    const pending = await fetch(`${base(1)}${location}`, { headers: { 'replygate-reply-token': token } });
    expect(pending.status).to.equal(202);
    // Long-poll on the other replica: answered by the notification, not at the end of the wait.
    const started = Date.now();
    const res = await fetch(`${base(1)}${location}`, { headers: { prefer: 'wait=8', 'replygate-reply-token': token } });
    expect(res.status).to.equal(200);
    expect(Date.now() - started).to.be.below(8000);
    expect(res.headers.get('replygate-stored-reply')).to.equal('true');
    expect(((await res.json()) as { body: { n: number } }).body.n).to.equal(1);
    // Fetching again returns the same stored reply.
    const again = await fetch(`${base(0)}${location}`, { headers: { 'replygate-reply-token': token } });
    expect(again.status).to.equal(200);
  });

  it('answers 404 for an unknown or malformed id', async function () {
    expect((await fetch(`${base(0)}/v1/replies/${replicas[0]!.instanceId}.AAAAAAAAAAAAAAAAAAAAAA`)).status).to.equal(
      404,
    );
    const res = await fetch(`${base(0)}/v1/replies/not-an-id`);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { error: string }).error).to.equal('RG_REPLY_NOT_FOUND');
  });

  it('answers 202 instead of 504 on a route that says so, and the late reply can still be fetched', async function () {
    const res = await fetch(`${base(0)}/slow/s1?delayMs=1200`);
    expect(res.status).to.equal(202);
    const location = res.headers.get('location')!;
    const late = await fetch(`${base(1)}${location}`, {
      headers: { prefer: 'wait=8', 'replygate-reply-token': res.headers.get('replygate-reply-token')! },
    });
    expect(late.status).to.equal(200);
    expect(((await late.json()) as { params: { id: string } }).params.id).to.equal('s1');
  });

  it('streams pending then the reply over Server-Sent Events from another replica', async function () {
    const accepted = await fetch(`${base(1)}/echo/sse?delayMs=500`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{"sse":true}',
    });
    expect(accepted.status).to.equal(202);
    const res = await fetch(`${base(0)}${accepted.headers.get('location')}/events`, {
      headers: { 'replygate-reply-token': accepted.headers.get('replygate-reply-token')! },
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.include('text/event-stream');
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).to.deep.equal(['pending', 'reply']);
    const data = JSON.parse(/event: reply\ndata: (.*)\n/.exec(text)![1]!) as { status: number; body: string };
    expect(data.status).to.equal(200);
    expect((JSON.parse(data.body) as { body: { sse: boolean } }).body.sse).to.equal(true);
  });
});

/**
 * What wakes a long-poll, and how long it may wait, on a redis-server of this block's own (the
 * test switches keyspace notifications off, which would break every other test on the shared one).
 */
describe('integration: long-poll and SSE wake on the keyspace notification, within REPLYGATE_MAX_WAIT_MS', function () {
  this.timeout(120_000);
  const MAX_WAIT_MS = 3000;
  const echoTopic = unique('asyncwake.echo');
  const quietTopic = unique('asyncwake.quiet');
  const replicas: ChildReplica[] = [];
  let redis: PrivateRedis;
  let echo: Responder;
  let keyPrefix: string;
  const base = () => `http://127.0.0.1:${replicas[0]!.port}`;
  const postAsync = (path: string) =>
    fetch(`${base()}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async' },
      body: '{}',
    });

  before(async function () {
    const stack = await useTestStack();
    redis = await startPrivateRedis();
    const names = uniqueGatewayNames('asyncwake');
    keyPrefix = names.keyPrefix;
    await createTopics(stack, [echoTopic, quietTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, timeoutMs: 30000 }
  - { name: quiet, method: POST, path: /quiet/:id, topic: ${quietTopic}, timeoutMs: 30000 }
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REDIS_URL: redis.url,
      REPLYGATE_MAX_WAIT_MS: String(MAX_WAIT_MS),
      // No canary check within the test (an hour away): it would notice the notifications switched off below and resync.
      REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: '3600000',
    });
    // The relay in its own process: an 'all' replica could hand the reply over in memory.
    replicas.push(...(await startReplicas(env, ['http', 'relay'])));
    echo = await startEcho(stack, echoTopic);
  });

  after(async function () {
    await echo?.stop();
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await redis?.stop();
  });

  it('is woken by the notification: with notifications off it waits to the end though the reply is stored', async function () {
    // With notifications: answered as soon as the reply is stored.
    const first = await postAsync('/echo/on?delayMs=300');
    const started = Date.now();
    const woken = await fetch(`${base()}${first.headers.get('location')}`, {
      headers: { prefer: 'wait=3', 'replygate-reply-token': first.headers.get('replygate-reply-token')! },
    });
    expect(woken.status).to.equal(200);
    expect(Date.now() - started).to.be.below(MAX_WAIT_MS - 500);

    // Without them, a reply stored early is found only by the read at the end of the wait: a
    // gateway that polled the store would answer within its polling interval instead.
    await redis.client.config('SET', 'notify-keyspace-events', '');
    try {
      const second = await postAsync('/echo/off?delayMs=300');
      const id = second.headers.get('x-correlation-id')!;
      const waitStarted = Date.now();
      const answered = fetch(`${base()}${second.headers.get('location')}`, {
        headers: { prefer: 'wait=3', 'replygate-reply-token': second.headers.get('replygate-reply-token')! },
      }).then((res) => ({ res, at: Date.now() }));
      await waitFor(async () => (await redis.client.exists(`${keyPrefix}reply:${id}`)) === 1, 10_000, 'the reply');
      const storedAt = Date.now();
      const { res, at } = await answered;
      expect(res.status).to.equal(200);
      expect(at - waitStarted, 'answered at the end of the wait').to.be.at.least(MAX_WAIT_MS - 100);
      expect(at - storedAt, 'time between the reply being stored and answered').to.be.at.least(1500);
    } finally {
      await redis.client.config('SET', 'notify-keyspace-events', 'K$');
    }
  });

  it('caps a long-poll at REPLYGATE_MAX_WAIT_MS, answering 202 pending', async function () {
    const accepted = await postAsync('/quiet/cap');
    const started = Date.now();
    const res = await fetch(`${base()}${accepted.headers.get('location')}`, {
      headers: { prefer: 'wait=60', 'replygate-reply-token': accepted.headers.get('replygate-reply-token')! },
      signal: AbortSignal.timeout(15_000),
    });
    const elapsed = Date.now() - started;
    expect(res.status).to.equal(202);
    expect(((await res.json()) as { status: string }).status).to.equal('pending');
    expect(elapsed).to.be.at.least(MAX_WAIT_MS - 100);
    expect(elapsed).to.be.below(15_000);
  });

  it('ends an SSE stream with a timeout event after REPLYGATE_MAX_WAIT_MS', async function () {
    const accepted = await postAsync('/quiet/sse');
    const id = accepted.headers.get('x-correlation-id')!;
    const started = Date.now();
    const res = await fetch(`${base()}${accepted.headers.get('location')}/events`, {
      headers: { 'replygate-reply-token': accepted.headers.get('replygate-reply-token')! },
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    expect(Date.now() - started).to.be.at.least(MAX_WAIT_MS - 100);
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).to.deep.equal(['pending', 'timeout']);
    const data = JSON.parse(/event: timeout\ndata: (.*)\n/.exec(text)![1]!) as {
      correlationId: string;
      waitedMs: number;
    };
    expect(data).to.deep.equal({ correlationId: id, waitedMs: MAX_WAIT_MS });
  });
});
