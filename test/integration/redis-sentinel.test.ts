import { expect } from 'chai';
import type { Responder } from '../../src/responder/responder-options';
import {
  createTopics,
  gatewayEnv,
  startEcho,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { startPrivateRedisSentinel, type PrivateRedisSentinel } from '../support/private-redis-sentinel';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

const ROUTE_TIMEOUT_MS = 15_000;
/** A burst of 20 on a shared 2-core machine; a deadline read would take the whole route timeout. */
const PROMPT_MS = 5000;

/**
 * The Sentinel shape (REDIS_SENTINELS + REDIS_SENTINEL_MASTER): an `http` replica and a `relay`
 * reach the primary the sentinels name, and follow it when it is SIGKILLed and a replica promoted.
 */
describe('integration: Redis Sentinel (REDIS_SENTINELS)', function () {
  this.timeout(120_000);

  let stack: TestStack;
  let sentinel: PrivateRedisSentinel;
  let names: GatewayNames;
  let http: ChildReplica;
  let relay: ChildReplica;
  let echo: Responder;
  const topic = unique('sentinel.echo');

  before(async function () {
    stack = await useTestStack();
    sentinel = await startPrivateRedisSentinel();
    names = uniqueGatewayNames('sentinel');
    await createTopics(stack, [topic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${topic}
    timeoutMs: ${ROUTE_TIMEOUT_MS}
`);
    const env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REDIS_URL: '',
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_MASTER: sentinel.master,
      LOG_LEVEL: 'info',
    });
    [http, relay] = await Promise.all([startReplica('http', env), startReplica('relay', env)]);
    echo = await startEcho(stack, topic);
  });

  after(async function () {
    await Promise.allSettled([http?.stop(), relay?.stop(), echo?.stop()]);
    await sentinel?.stop();
  });

  async function burst(n: number, tag: string) {
    return Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const started = Date.now();
        const res = await fetch(`http://127.0.0.1:${http.port}/echo/${tag}-${i}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ i, tag }),
        });
        return { status: res.status, ms: Date.now() - started, body: await res.text(), i };
      }),
    );
  }

  it('answers requests at once through the primary the sentinels name', async function () {
    for (const r of await burst(20, 'a')) {
      expect(r.status, r.body).to.equal(200);
      expect((JSON.parse(r.body) as { body: unknown }).body).to.deep.equal({ i: r.i, tag: 'a' });
      expect(r.ms).to.be.below(PROMPT_MS);
    }
  });

  it('the primary SIGKILLed: the sentinels promote a replica, the wake follows it, no request hangs', async function () {
    const before = await sentinel.primary();
    await sentinel.kill(Number(before.split(':')[1]));
    const during = await burst(10, 'b');
    for (const r of during) {
      expect([200, 503], `${r.status} ${r.body}`).to.include(r.status);
      expect(r.ms).to.be.below(ROUTE_TIMEOUT_MS);
    }
    await waitFor(async () => (await sentinel.primary()) !== before, 30_000, 'a replica promoted', 200);
    let readyz = '';
    await waitFor(
      async () => {
        const res = await fetch(`http://127.0.0.1:${http.port}/readyz`);
        readyz = `${res.status} ${await res.text()}`;
        return res.status === 200;
      },
      45_000,
      'the http replica ready again',
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last /readyz: ${readyz}\nhttp replica:\n${http.output.slice(-25).join('\n')}`);
    });
    for (const r of await burst(20, 'c')) {
      expect(r.status, r.body).to.equal(200);
      expect(r.ms, `request ${r.i} after the failover took ${r.ms} ms`).to.be.below(PROMPT_MS);
    }
    // The subscriber followed the new primary and re-read what was pending; the relays rewound.
    expect(http.output.some((l) => l.includes('keyspace subscription restored'))).to.equal(true);
    expect(relay.output.some((l) => l.includes('new run_id'))).to.equal(true);
  });
});
