import { expect } from 'chai';
import type { Responder } from '../../src/responder';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
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
    const accepted = await fetch(`${base(0)}/echo/a1?delayMs=300`, {
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
    // Right away it is still pending.
    const pending = await fetch(`${base(1)}${location}`, { headers: { 'replygate-reply-token': token } });
    expect([200, 202]).to.include(pending.status);
    // Long-poll on the other replica: answered by the notification, not at the end of the wait.
    const started = Date.now();
    const res = await fetch(`${base(1)}${location}`, { headers: { prefer: 'wait=8', 'replygate-reply-token': token } });
    expect(res.status).to.equal(200);
    expect(Date.now() - started).to.be.below(8000);
    expect(res.headers.get('replygate-stored-reply')).to.equal('true');
    expect(((await res.json()) as { body: { n: number } }).body.n).to.equal(1);
    // Fetching again returns the same stored reply.
    const again = await fetch(`${base(0)}${location}`);
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
    const late = await fetch(`${base(1)}${location}`, { headers: { prefer: 'wait=8' } });
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
    const res = await fetch(`${base(0)}${accepted.headers.get('location')}/events`);
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
