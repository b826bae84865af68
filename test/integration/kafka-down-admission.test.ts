import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parseStackEnv } from '../../examples/demo/stack-env';
import type { Responder } from '../../src/responder/responder-options';
import {
  createTopics,
  gatewayEnv,
  startEcho,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';
import type { ChildReplica } from '../support/processes';
import { serversOf, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

const exec = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
/** The route timeout of `/echo`: a publish Kafka never acknowledges must end within it (plus a margin). */
const ROUTE_TIMEOUT_MS = 1500;
const MARGIN_MS = 1000;

/**
 * A replica while its Kafka is stopped: a publish ends 503 RG_PUBLISH_FAILED at the route deadline
 * (never hangs, never a 504 that blames the service), the Kafka probe turns `/readyz` and
 * admission 503 after its misses, and both turn back once Kafka returns. Also a smoke test that
 * replicas started with `REPLYGATE_PRODUCER_BATCHING=off` and `REPLYGATE_PRODUCER_MAX_IN_FLIGHT=2`
 * answer. Stopping a broker would break every other test, so this file starts a stack of its own
 * (scripts/stack.sh in its own state dir).
 */
describe('integration: a replica while Kafka is down', function () {
  this.timeout(300_000);
  const dir = resolve(ROOT, `.stack/kafka-down-${process.pid}`);
  const env = { ...process.env, REPLYGATE_STACK_DIR: dir, STACK_KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m' };
  const stack = (...args: string[]) => exec('bash', [resolve(ROOT, 'scripts/stack.sh'), ...args], { env });
  const topic = unique('down.requests');
  let own: TestStack;
  let echo: Responder | undefined;
  let unbatched: ChildReplica | undefined;
  let twoInFlight: ChildReplica | undefined;
  let relay: ChildReplica | undefined;

  before(async function () {
    const vars = parseStackEnv((await stack('up')).stdout);
    own = {
      ...serversOf(vars),
      source: 'local',
      stop: async () => undefined,
    };
    const names = uniqueGatewayNames('down');
    await createTopics(own, [topic, names.replyTopic]);
    const routes = writeRoutes(
      `routes:\n  - { name: echo, method: POST, path: /echo, topic: ${topic}, timeoutMs: ${ROUTE_TIMEOUT_MS} }\n`,
    );
    const base = gatewayEnv(own, names, { REPLYGATE_ROUTES: routes });
    // Role http: admission then hangs on the Kafka probe alone (an `all` replica's own relay
    // leaving the group would refuse requests first, and the publish would never be tried).
    [unbatched, twoInFlight, relay] = await Promise.all([
      startReplica('http', base, { REPLYGATE_PRODUCER_BATCHING: 'off' }),
      startReplica('http', base, { REPLYGATE_PRODUCER_BATCHING: 'adaptive', REPLYGATE_PRODUCER_MAX_IN_FLIGHT: '2' }),
      startReplica('relay', base),
    ]);
    echo = await startEcho(own, topic);
  });

  after(async function () {
    await echo?.stop().catch(() => undefined);
    await Promise.allSettled([unbatched?.stop(), twoInFlight?.stop(), relay?.stop()]);
    await stack('down').catch(() => undefined);
  });

  const post = (replica: ChildReplica, body: unknown): Promise<Response> =>
    fetch(`http://127.0.0.1:${replica.port}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers requests on replicas started with REPLYGATE_PRODUCER_BATCHING=off and REPLYGATE_PRODUCER_MAX_IN_FLIGHT=2', async function () {
    for (const [name, replica] of [
      ['batching off', unbatched!],
      ['max in flight 2', twoInFlight!],
    ] as const) {
      const sent = Array.from({ length: 8 }, (_, i) => ({ n: i, via: name }));
      // The first request may meet a consumer group still settling: retry it until one answers.
      await waitFor(async () => (await post(replica, { warm: name })).status === 200, 60_000, `${name} answering`, 250);
      const answers = await Promise.all(sent.map((b) => post(replica, b)));
      expect(
        answers.map((r) => r.status),
        name,
      ).to.deep.equal(sent.map(() => 200));
      const echoed = (await Promise.all(answers.map((r) => r.json()))) as { body: unknown }[];
      expect(
        echoed.map((e) => e.body),
        name,
      ).to.deep.equal(sent);
    }
  });

  it('ends a publish Kafka never acknowledges with 503 RG_PUBLISH_FAILED by the route deadline, then /readyz and admission turn 503, and 200 once Kafka is back', async function () {
    const replica = unbatched!;
    expect((await fetch(`http://127.0.0.1:${replica.port}/readyz`)).status).to.equal(200);
    // Kafka frozen (SIGSTOP), not stopped: connections stay open and nothing answers, the case where
    // kafkajs would wait past any route timeout. The probe needs two 3 s misses to notice, so
    // admission still lets the request through to the publish.
    const kafkaPid = Number(readFileSync(resolve(dir, 'kafka.pid'), 'utf8').trim());
    process.kill(kafkaPid, 'SIGSTOP');
    const started = Date.now();
    let res: Response;
    try {
      res = await post(replica, { during: 'outage' });
    } finally {
      process.kill(kafkaPid, 'SIGCONT');
    }
    const tookMs = Date.now() - started;
    const body = (await res.json()) as { error?: string };
    process.stderr.write(`      publish with Kafka frozen: ${res.status} ${body.error} after ${tookMs} ms\n`);
    expect(res.status, JSON.stringify(body)).to.equal(503);
    expect(body.error, JSON.stringify(body)).to.equal('RG_PUBLISH_FAILED');
    expect(tookMs).to.be.at.most(ROUTE_TIMEOUT_MS + MARGIN_MS);

    await stack('stop', 'kafka');
    // The probe (every 2 s, two misses in a row) turns /readyz 503...
    const downSince = Date.now();
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).status === 503,
      30_000,
      '/readyz 503 while Kafka is stopped',
      200,
    );
    const ready = (await (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).json()) as {
      checks: Record<string, boolean>;
    };
    expect(ready.checks['kafka'], JSON.stringify(ready)).to.equal(false);
    process.stderr.write(`      /readyz 503 ${Date.now() - downSince} ms after the stop\n`);
    // ...and admission refuses new requests at once, naming Kafka, instead of publishing them.
    const refusedAt = Date.now();
    const refused = await post(replica, { during: 'outage, probe down' });
    const refusal = (await refused.json()) as { error?: string };
    expect(refused.status, JSON.stringify(refusal)).to.equal(503);
    expect(refusal.error).to.equal('RG_UNAVAILABLE');
    expect(JSON.stringify(refusal)).to.include('Kafka is unreachable');
    expect(Date.now() - refusedAt).to.be.below(ROUTE_TIMEOUT_MS);

    await stack('start', 'kafka');
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).status === 200,
      90_000,
      '/readyz 200 after Kafka came back',
      250,
    );
    await waitFor(
      async () => (await post(replica, { after: 'outage' })).status === 200,
      90_000,
      'a request answered 200 after Kafka came back',
      500,
    );
  });
});
