import { expect } from 'chai';
import { createResponder } from '../../src/responder/create-responder';
import { type Responder } from '../../src/responder/responder-options';
import { silentLogger } from '../../src/observability/logger';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { scanKeys } from '../support/redis-keys';
import {
  createTopics,
  gatewayEnv,
  metricValue,
  metricsOf,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';

/**
 * Streamed replies (seed 000's streaming GETs): a service sends several parts; they land on
 * different reply partitions, are written by different relay processes, and reach the client in
 * order as NDJSON lines through the replica that took the request.
 */
describe('integration: streamed replies across relays', function () {
  this.timeout(120_000);
  let stack: TestStack;
  const topic = unique('stream.requests');
  const gatherTopic = unique('gather.requests');
  /** A topic no service reads: a stream on it never sends a first part. */
  const silentTopic = unique('silent.requests');
  const quoters: Responder[] = [];
  const replicas: ChildReplica[] = [];
  let relays: ChildReplica[] = [];
  let service: Responder;
  let keyPrefix = '';

  before(async function () {
    stack = await useTestStack();
    const names = uniqueGatewayNames('stream');
    keyPrefix = names.keyPrefix;
    await createTopics(stack, [topic, gatherTopic, silentTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: count, method: GET, path: /count/:n, topic: ${topic}, stream: true, timeoutMs: 20000 }
  - { name: stall, method: GET, path: /stall/:n, topic: ${topic}, stream: true, timeoutMs: 1500 }
  - { name: silent, method: GET, path: /silent, topic: ${silentTopic}, stream: true, timeoutMs: 1000 }
  - { name: quotes, method: GET, path: /quotes, topic: ${gatherTopic}, gather: { count: 3 }, timeoutMs: 20000 }
  - { name: quotesOfFour, method: GET, path: /quotes4, topic: ${gatherTopic}, gather: { count: 4 }, timeoutMs: 1500 }
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes });
    replicas.push(...(await Promise.all([startReplica('http', env), startReplica('http', env)])));
    relays = await Promise.all([startReplica('relay', env), startReplica('relay', env)]);
    service = createResponder({
      brokers: stack.kafkaBrokers,
      topic,
      groupId: unique('counter'),
      logger: silentLogger(),
      handler: (ctx) => {
        const n = Number(ctx.params['n']);
        const stall = ctx.route === 'stall';
        return {
          status: 200,
          parts: (async function* () {
            for (let i = 0; i < n; i++) {
              yield { i, of: n };
              await new Promise((r) => setTimeout(r, 20));
            }
            // A stalled stream never sends its final marker.
            if (stall) await new Promise((r) => setTimeout(r, 3000));
          })(),
        };
      },
    });
    await service.start();
    // Three quoting services, each its own consumer group: every one gets each request.
    for (const name of ['alpha', 'beta', 'gamma']) {
      quoters.push(
        createResponder({
          brokers: stack.kafkaBrokers,
          topic: gatherTopic,
          groupId: unique(`quoter-${name}`),
          logger: silentLogger(),
          handler: () => ({ body: { quoter: name, price: name.length } }),
        }),
      );
    }
    await Promise.all(quoters.map((q) => q.start()));
  });

  after(async function () {
    await service?.stop();
    await Promise.allSettled(quoters.map((q) => q.stop()));
    await Promise.allSettled([...replicas, ...relays].map((r) => r.stop()));
  });

  it('streams every part in order, written by both relays', async function () {
    const stored = async () =>
      Promise.all(
        relays.map(async (r) => metricValue(await metricsOf(r), 'replygate_relay_writes_total', { result: 'stored' })),
      );
    const before = await stored();
    const res = await fetch(`http://127.0.0.1:${replicas[0]!.port}/count/12`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.include('application/x-ndjson');
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; body: { i: number } });
    expect(lines.map((l) => l.seq)).to.deep.equal([...Array(12).keys()]);
    expect(lines.map((l) => l.body.i)).to.deep.equal([...Array(12).keys()]);
    const after = await stored();
    // 12 parts + 1 final marker stored under this stream's id (counted by key: the relays' counters
    // also count late parts of other tests of this file that end meanwhile, in any order)...
    const id = res.headers.get('x-correlation-id')!;
    const partKeys = (await scanKeys(stack, `${keyPrefix}reply:${id}#`)).keys;
    expect(partKeys).to.have.length(13);
    // ...spread over the reply partitions: both relays wrote some of them.
    expect(after[0]! - before[0]! + (after[1]! - before[1]!)).to.be.at.least(13);
    expect(after[0]! - before[0]!).to.be.greaterThan(0);
    expect(after[1]! - before[1]!).to.be.greaterThan(0);
  });

  it('ends a stream that stalls at its deadline with an error line after the parts it had', async function () {
    const res = await fetch(`http://127.0.0.1:${replicas[1]!.port}/stall/3`);
    expect(res.status).to.equal(200);
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; error?: string });
    expect(lines.slice(0, 3).map((l) => l.seq)).to.deep.equal([0, 1, 2]);
    expect(lines[3]).to.deep.equal({ seq: 3, error: 'RG_REPLY_TIMEOUT' });
  });

  it('answers 504 RG_REPLY_TIMEOUT when the deadline passes before the first part', async function () {
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${replicas[0]!.port}/silent`);
    expect(res.status).to.equal(504);
    expect(res.headers.get('content-type')).to.not.include('ndjson');
    const body = (await res.json()) as { error?: string };
    expect(body.error).to.equal('RG_REPLY_TIMEOUT');
    // At the route's 1 s deadline, not the 20 s of other routes or never.
    expect(Date.now() - started).to.be.within(900, 5000);
  });

  it('gathers one reply from each of three responders (scatter-gather)', async function () {
    const res = await fetch(`http://127.0.0.1:${replicas[0]!.port}/quotes`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { complete: boolean; received: number; replies: { body: { quoter: string } }[] };
    expect(body.complete).to.equal(true);
    expect(body.replies.map((r) => r.body.quoter).sort()).to.deep.equal(['alpha', 'beta', 'gamma']);
  });

  it('answers with what arrived when fewer replies come than asked for by the deadline', async function () {
    const res = await fetch(`http://127.0.0.1:${replicas[1]!.port}/quotes4`);
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { complete: boolean; expected: number; received: number };
    expect(body).to.include({ complete: false, expected: 4, received: 3 });
  });
});
