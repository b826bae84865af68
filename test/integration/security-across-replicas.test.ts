import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { hashApiKey } from '../../src/admission/auth/api-key-store';
import { principalOf } from '../../src/admission/auth/principal';
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
import { scanKeys } from '../support/redis-keys';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';

const POINTS = 10;
const BURST = 40;

/**
 * Authentication and rate limits on real processes: two replicas share one Redis-held budget, so
 * a burst spread over both gets at most `points` requests through, not `points` per replica.
 */
describe('integration: API keys and a rate limit shared across replicas', function () {
  this.timeout(180_000);

  let stack: TestStack;
  let names: GatewayNames;
  const topic = unique('limited.requests');
  const key = `rgk_${randomBytes(32).toString('base64url')}`;
  /** A second caller, with a budget of its own: the counter test does not depend on the burst test. */
  const otherKey = `rgk_${randomBytes(32).toString('base64url')}`;
  const replicas: ChildReplica[] = [];
  let echo: Responder | undefined;

  before(async function () {
    stack = await useTestStack();
    names = uniqueGatewayNames('sec');
    await createTopics(stack, [topic, names.replyTopic]);
    const keysFile = join(mkdtempSync(join(tmpdir(), 'replygate-keys-')), 'api-keys.yaml');
    writeFileSync(
      keysFile,
      `keys:\n  - { id: burst-client, hash: ${hashApiKey(key)}, subject: load, scopes: [echo] }\n` +
        `  - { id: ttl-client, hash: ${hashApiKey(otherKey)}, subject: ttl, scopes: [echo] }\n`,
    );
    const routes = writeRoutes(`
routes:
  - name: limited
    method: GET
    path: /limited/:id
    topic: ${topic}
    timeoutMs: 60000
    auth: apiKey
    scopes: [echo]
    rateLimit: { points: ${POINTS}, durationSec: 60 }
  - name: private
    method: POST
    path: /private/:id
    topic: ${topic}
    timeoutMs: 60000
    auth: apiKey
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes, REPLYGATE_API_KEYS_FILE: keysFile });
    replicas.push(...(await Promise.all([startReplica('all', env), startReplica('all', env)])));
    echo = createEchoService({ brokers: stack.kafkaBrokers, topic, groupId: unique('echo'), logger: silentLogger() });
    await echo.start();
  });

  after(async function () {
    await Promise.allSettled(replicas.map((r) => r.stop()));
    await echo?.stop();
  });

  const url = (i: number, path: string) => `http://127.0.0.1:${replicas[i % replicas.length]!.port}${path}`;

  it('refuses a request without a key on every replica', async () => {
    for (let i = 0; i < replicas.length; i++) {
      const res = await fetch(url(i, '/limited/x'));
      expect(res.status).to.equal(401);
      expect(res.headers.get('www-authenticate')).to.equal('Bearer realm="replygate"');
    }
  });

  it('holds the limit for a burst from two replicas at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: BURST }, (_, i) => fetch(url(i, `/limited/${i}`), { headers: { 'x-api-key': key } })),
    );
    const statuses = responses.map((r) => r.status);
    const ok = statuses.filter((s) => s === 200).length;
    const limited = responses.filter((r) => r.status === 429);
    expect(
      statuses.filter((s) => s !== 200 && s !== 429),
      'only 200 or 429',
    ).to.deep.equal([]);
    expect(ok, 'successes across both replicas').to.equal(POINTS);
    expect(limited).to.have.length(BURST - POINTS);
    // Both replicas refused some: the budget is shared, not per replica.
    const refusedBy = new Set(responses.map((r, i) => (r.status === 429 ? i % 2 : -1)).filter((i) => i >= 0));
    expect(refusedBy.size).to.equal(2);
    for (const r of limited) {
      expect(Number(r.headers.get('retry-after'))).to.be.within(1, 60);
      expect(r.headers.get('ratelimit-remaining')).to.equal('0');
      expect(((await r.json()) as { error: string }).error).to.equal('RG_RATE_LIMITED');
    }
  });

  it('keeps its counters under the key prefix, each with a TTL', async () => {
    expect((await fetch(url(1, '/limited/ttl'), { headers: { 'x-api-key': otherKey } })).status).to.equal(200);
    const counter = `${names.keyPrefix}ratelimit:limited:p:${principalOf('apikey', 'ttl-client')}`;
    const { keys, withoutTtl } = await scanKeys(stack, names.keyPrefix);
    expect(keys).to.include(counter);
    expect(withoutTtl, 'keys without TTL').to.deep.equal([]);
  });

  it('binds an async reply to its caller: another replica serves it only with the retrieval token', async () => {
    const accepted = await fetch(url(0, '/private/p1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'respond-async', 'x-api-key': key },
      body: '{"secret":"mine"}',
    });
    expect(accepted.status).to.equal(202);
    const location = accepted.headers.get('location')!;
    const token = accepted.headers.get('replygate-reply-token')!;
    // The id alone is no bearer capability once auth is on: unknown to anyone without the token.
    const bare = await fetch(url(1, location), { headers: { prefer: 'wait=2' } });
    expect(bare.status).to.equal(404);
    const wrong = await fetch(url(1, location), { headers: { 'replygate-reply-token': `${token}x` } });
    expect(wrong.status).to.equal(404);
    const mine = await fetch(url(1, location), { headers: { prefer: 'wait=10', 'replygate-reply-token': token } });
    expect(mine.status).to.equal(200);
    expect(((await mine.json()) as { body: { secret: string } }).body.secret).to.equal('mine');
  });
});
