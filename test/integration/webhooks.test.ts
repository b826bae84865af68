import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Responder } from '../../src/responder/responder-options';
import { bullPrefix } from '../../src/webhooks/webhook-queue-names';
import { verifyWebhookSignature } from '../../src/webhooks/webhook-signature';
import type { ChildReplica } from '../support/processes';
import { scanKeys } from '../support/redis-keys';
import { useTestStack, type TestStack } from '../support/test-stack';
import { testRedis } from '../support/test-redis';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
  startEcho,
  startReplicas,
} from '../support/gateway-fixture';

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the receiver got it (ms since the epoch). */
  at: number;
}

const SECRET = 'webhook-test-secret-0123456789';

/**
 * Durable, signed webhooks across processes: the request is taken by one HTTP replica, the reply
 * stored by a separate relay process that enqueues the BullMQ job, and the state read through the
 * other HTTP replica. The receiver runs in this test process on 127.0.0.1.
 */
describe('integration: webhook callbacks (BullMQ) across replicas', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let names: GatewayNames;
  const echoTopic = unique('hooks.echo');
  const replicas: ChildReplica[] = [];
  let echo: Responder;
  let receiver: Server;
  let receiverBase = '';
  const deliveries: Delivery[] = [];
  /** Failures the receiver still answers per path before accepting. */
  const failuresLeft = new Map<string, number>();
  const base = (i: number) => `http://127.0.0.1:${replicas[i]!.port}`;

  before(async function () {
    stack = await useTestStack();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '';
        deliveries.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        const left = path.startsWith('/hooks/dead') ? 1 : (failuresLeft.get(path) ?? 0);
        if (left > 0) {
          failuresLeft.set(path, left - 1);
          res.statusCode = 500;
        } else {
          res.statusCode = 204;
        }
        res.end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    names = uniqueGatewayNames('hooks');
    await createTopics(stack, [echoTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: hooked
    method: POST
    path: /hooked/:id
    topic: ${echoTopic}
    callbacks: { allow: ["${receiverBase}/hooks"], secretEnv: RG_TEST_WEBHOOK_SECRET, attempts: 5, backoffMs: 400 }
  - name: dead
    method: POST
    path: /dead/:id
    topic: ${echoTopic}
    callbacks: { url: "${receiverBase}/hooks/dead", secret: "${SECRET}", attempts: 2, backoffMs: 50 }
  - { name: plain, method: POST, path: /plain/:id, topic: ${echoTopic} }
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes, RG_TEST_WEBHOOK_SECRET: SECRET });
    replicas.push(...(await startReplicas(env, ['http', 'http', 'relay'])));
    echo = await startEcho(stack, echoTopic);
  });

  after(async function () {
    await echo?.stop();
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await new Promise((r) => receiver?.close(r));
  });

  const postAsync = (i: number, path: string, headers: Record<string, string> = {}) =>
    fetch(`${base(i)}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async', ...headers },
      body: '{"hello":"hook"}',
    });

  it('POSTs the reply to the callback, retrying a failing receiver with backoff until it accepts', async function () {
    const hookPath = `/hooks/orders/${unique('a')}`;
    failuresLeft.set(hookPath, 2);
    const accepted = await postAsync(0, '/hooked/a1', { 'callback-url': `${receiverBase}${hookPath}` });
    expect(accepted.status).to.equal(202);
    expect(accepted.headers.get('replygate-callback-state')).to.equal('pending');
    const id = accepted.headers.get('x-correlation-id')!;
    const token = accepted.headers.get('replygate-reply-token')!;

    await waitFor(() => deliveries.filter((d) => d.path === hookPath).length >= 3, 30_000, 'three callback attempts');
    const attempts = deliveries.filter((d) => d.path === hookPath);
    expect(attempts.map((d) => d.headers['replygate-delivery-attempt'])).to.deep.equal(['1', '2', '3']);
    // Exponential backoff from 400 ms with jitter 0.5: the n-th retry waits 400·2^(n-1)·[0.5, 1] ms.
    // Retries without backoff would come a few ms apart.
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(gaps[0], 'wait before the first retry').to.be.at.least(180);
    expect(gaps[1], 'wait before the second retry').to.be.at.least(380);
    const last = attempts[2]!;
    expect(last.headers['replygate-correlation-id']).to.equal(id);
    expect(verifyWebhookSignature(SECRET, last.body, last.headers['replygate-signature'] as string)).to.equal(true);
    expect(
      verifyWebhookSignature('another-secret-0123456789', last.body, last.headers['replygate-signature'] as string),
    ).to.equal(false);
    const payload = JSON.parse(last.body) as { correlationId: string; route: string; status: number; body: string };
    expect(payload).to.include({ correlationId: id, route: 'hooked', status: 200 });
    expect((JSON.parse(payload.body) as { body: { hello: string } }).body.hello).to.equal('hook');

    // The state is read through the other replica.
    const state = await waitFor(
      async () => {
        const res = await fetch(`${base(1)}/v1/replies/${encodeURIComponent(id)}`, {
          headers: { 'replygate-reply-token': token },
        });
        await res.arrayBuffer();
        const s = res.headers.get('replygate-callback-state');
        return s === 'delivered' ? s : undefined;
      },
      10_000,
      'delivered state',
    );
    expect(state).to.equal('delivered');
    // No fourth attempt once accepted.
    expect(deliveries.filter((d) => d.path === hookPath)).to.have.length(3);
  });

  it('dead-letters a callback after the route attempts and says so', async function () {
    const accepted = await postAsync(1, '/dead/d1');
    expect(accepted.status).to.equal(202);
    const id = accepted.headers.get('x-correlation-id')!;
    const token = accepted.headers.get('replygate-reply-token')!;
    await waitFor(
      async () => {
        const res = await fetch(`${base(0)}/v1/replies/${encodeURIComponent(id)}`, {
          headers: { 'replygate-reply-token': token },
        });
        await res.arrayBuffer();
        return res.headers.get('replygate-callback-state') === 'failed';
      },
      30_000,
      'failed state',
    );
    const mine = deliveries.filter((d) => d.headers['replygate-correlation-id'] === id);
    expect(mine).to.have.length(2);
    // The dead letter is kept in BullMQ's failed set, under its own prefix outside the gateway's.
    const redis = await testRedis(stack);
    try {
      const failed = await redis.zscore(
        `${bullPrefix(names.keyPrefix, stack.redisShape === 'cluster')}:webhooks:failed`,
        id,
      );
      expect(failed).to.not.equal(null);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses callback URLs outside the allow-list with 400, before publishing', async function () {
    const handledBefore = echo.stats.handled;
    const refused = [
      `${receiverBase}/hooksx`,
      'http://169.254.169.254/latest/meta-data',
      `http://user@${receiverBase.slice('http://'.length)}/hooks`,
      'file:///etc/passwd',
      'http://10.0.0.1/hooks',
    ];
    for (const url of refused) {
      const res = await postAsync(0, '/hooked/r1', { 'callback-url': url });
      expect(res.status, url).to.equal(400);
      const problem = (await res.json()) as { error: string; detail: string };
      expect(problem.error).to.equal('RG_CALLBACK_REFUSED');
      expect(problem.detail).to.not.include('169.254');
    }
    // A route without callbacks, and a synchronous request, refuse the header too.
    expect((await postAsync(0, '/plain/p1', { 'callback-url': `${receiverBase}/hooks` })).status).to.equal(400);
    const sync = await fetch(`${base(0)}/hooked/s1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'callback-url': `${receiverBase}/hooks/x` },
      body: '{}',
    });
    expect(sync.status).to.equal(400);
    // Nothing of the above reached the service: a request published now is the only one it handles.
    const marker = await fetch(`${base(1)}/plain/marker`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(marker.status).to.equal(200);
    await waitFor(() => echo.stats.handled > handledBefore, 10_000, 'the echo to count the marker');
    expect(echo.stats.handled - handledBefore, 'requests the service handled').to.equal(1);
  });

  it('leaves no key under the gateway prefix without a TTL', async function () {
    // A callback of its own, so this passes alone too.
    const accepted = await postAsync(1, '/hooked/ttl', { 'callback-url': `${receiverBase}/hooks/${unique('ttl')}` });
    expect(accepted.status).to.equal(202);
    const id = accepted.headers.get('x-correlation-id')!;
    await waitFor(
      () => deliveries.some((d) => d.headers['replygate-correlation-id'] === id),
      30_000,
      'the callback to be delivered',
    );
    const { keys, withoutTtl } = await scanKeys(stack, names.keyPrefix);
    expect(keys.some((k) => k.includes(':hook:'))).to.equal(true);
    expect(withoutTtl).to.deep.equal([]);
  });
});
