import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { hashApiKey } from '../../src/admission/auth/api-key-store';
import { silentLogger } from '../../src/observability/logger';
import type { Responder } from '../../src/responder/responder-options';
import { createEchoService } from '../../examples/samples/echo-service';
import {
  createTopics,
  gatewayEnv,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';

interface Echo {
  headers: Record<string, string>;
  body: unknown;
}

/**
 * One caller can never reach another caller's request through an `Idempotency-Key` or a reply id
 * (issue 10, item 1), on real processes: two API keys on an authenticated route, and two client
 * addresses (X-Forwarded-For from a trusted loopback proxy) on an anonymous one.
 */
describe('integration: idempotency keys and async replies are per caller', function () {
  this.timeout(180_000);

  let stack: TestStack;
  let names: GatewayNames;
  const topic = unique('callers.requests');
  const keyA = `rgk_${randomBytes(32).toString('base64url')}`;
  const keyB = `rgk_${randomBytes(32).toString('base64url')}`;
  const replicas: ChildReplica[] = [];
  let echo: Responder | undefined;

  before(async function () {
    stack = await useTestStack();
    names = uniqueGatewayNames('callers');
    await createTopics(stack, [topic, names.replyTopic]);
    const keysFile = join(mkdtempSync(join(tmpdir(), 'replygate-keys-')), 'api-keys.yaml');
    writeFileSync(
      keysFile,
      `keys:\n  - { id: caller-a, hash: ${hashApiKey(keyA)}, subject: alice, scopes: [] }\n` +
        `  - { id: caller-b, hash: ${hashApiKey(keyB)}, subject: bob, scopes: [] }\n`,
    );
    const routes = writeRoutes(`
routes:
  - { name: whoami, method: POST, path: /whoami, topic: ${topic}, timeoutMs: 20000, auth: apiKey }
  - { name: open, method: POST, path: /open, topic: ${topic}, timeoutMs: 20000 }
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REPLYGATE_API_KEYS_FILE: keysFile,
      REPLYGATE_TRUST_PROXY: 'loopback',
    });
    replicas.push(...(await Promise.all([startReplica('all', env), startReplica('all', env)])));
    echo = createEchoService({ brokers: stack.kafkaBrokers, topic, groupId: unique('echo'), logger: silentLogger() });
    await echo.start();
  });

  after(async function () {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await echo?.stop();
  });

  const url = (i: number, path: string) => `http://127.0.0.1:${replicas[i % replicas.length]!.port}${path}`;
  const post = (i: number, path: string, headers: Record<string, string>, body: unknown) =>
    fetch(url(i, path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it("never answers caller B with caller A's reply for the same Idempotency-Key", async () => {
    const key = unique('pay');
    const a = await post(
      0,
      '/whoami',
      { 'x-api-key': keyA, 'idempotency-key': key, 'x-request-id': 'from-a' },
      { pay: 1 },
    );
    expect(a.status).to.equal(200);
    expect(((await a.json()) as Echo).headers['x-request-id']).to.equal('from-a');
    // Same key, same body, another API key, other replica: B's own request reaches the service.
    const b = await post(
      1,
      '/whoami',
      { 'x-api-key': keyB, 'idempotency-key': key, 'x-request-id': 'from-b' },
      { pay: 1 },
    );
    expect(b.status).to.equal(200);
    expect(b.headers.get('idempotent-replayed')).to.equal(null);
    expect(b.headers.get('x-correlation-id')).not.to.equal(a.headers.get('x-correlation-id'));
    expect(((await b.json()) as Echo).headers['x-request-id']).to.equal('from-b');
    // With another body B is not refused, and nothing names A's id.
    const b2 = await post(0, '/whoami', { 'x-api-key': keyB, 'idempotency-key': unique('other') }, { pay: 2 });
    expect(b2.status).to.equal(200);
    const reused = await post(1, '/whoami', { 'x-api-key': keyA, 'idempotency-key': key }, { pay: 3 });
    expect(reused.status).to.equal(422);
    expect(await reused.text()).not.to.include(a.headers.get('x-correlation-id')!);
    // A's own retry still replays A's reply.
    const retry = await post(
      1,
      '/whoami',
      { 'x-api-key': keyA, 'idempotency-key': key, 'x-request-id': 'retry' },
      { pay: 1 },
    );
    expect(retry.headers.get('idempotent-replayed')).to.equal('true');
    expect(((await retry.json()) as Echo).headers['x-request-id']).to.equal('from-a');
  });

  it('keeps an anonymous async reply from another client: own key scope, and the id alone reads nothing', async () => {
    const key = unique('anon');
    const async = { prefer: 'respond-async', 'idempotency-key': key };
    const a = await post(
      0,
      '/open',
      { ...async, 'x-forwarded-for': '203.0.113.1', 'x-request-id': 'from-a' },
      { n: 1 },
    );
    expect(a.status).to.equal(202);
    const idA = a.headers.get('x-correlation-id')!;
    const tokenA = a.headers.get('replygate-reply-token')!;
    // Another client address with the same key gets a request of its own, not A's id.
    const b = await post(
      1,
      '/open',
      { ...async, 'x-forwarded-for': '203.0.113.2', 'x-request-id': 'from-b' },
      { n: 1 },
    );
    expect(b.status).to.equal(202);
    expect(b.headers.get('x-correlation-id')).not.to.equal(idA);
    // The id alone (or with B's token) is unknown, on either replica, waiting or not.
    for (const i of [0, 1]) {
      const attempts: Record<string, string>[] = [
        {},
        { 'replygate-reply-token': b.headers.get('replygate-reply-token')! },
      ];
      for (const headers of attempts) {
        const res = await fetch(url(i, `/v1/replies/${encodeURIComponent(idA)}`), {
          headers: { ...headers, prefer: 'wait=1' },
        });
        expect(res.status).to.equal(404);
        expect(await res.text()).not.to.include(idA);
      }
      expect((await fetch(url(i, `/v1/replies/${encodeURIComponent(idA)}/events`))).status).to.equal(404);
    }
    // A, with its token, reads its own reply.
    const mine = await fetch(url(1, a.headers.get('location')!), {
      headers: { prefer: 'wait=10', 'replygate-reply-token': tokenA },
    });
    expect(mine.status).to.equal(200);
    expect(((await mine.json()) as Echo).headers['x-request-id']).to.equal('from-a');
  });

  it("binds an authenticated async reply: another API key's retry is its own request", async () => {
    const key = unique('auth-async');
    const async = { prefer: 'respond-async', 'idempotency-key': key };
    const a = await post(0, '/whoami', { ...async, 'x-api-key': keyA }, { n: 1 });
    const b = await post(1, '/whoami', { ...async, 'x-api-key': keyB }, { n: 1 });
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    const idA = a.headers.get('x-correlation-id')!;
    expect(b.headers.get('x-correlation-id')).not.to.equal(idA);
    const withB = await fetch(url(1, `/v1/replies/${encodeURIComponent(idA)}`), {
      headers: { 'replygate-reply-token': b.headers.get('replygate-reply-token')!, 'x-api-key': keyB },
    });
    expect(withB.status).to.equal(404);
    const withA = await fetch(url(0, `/v1/replies/${encodeURIComponent(idA)}`), {
      headers: { prefer: 'wait=10', 'replygate-reply-token': a.headers.get('replygate-reply-token')! },
    });
    expect(withA.status).to.equal(200);
  });
});
