import { expect } from 'chai';
import { startProcess, type ChildReplica } from '../support/processes';
import {
  createTopics,
  gatewayEnv,
  metricValue,
  metricsOf,
  startReplica,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function status(port: number, path: string, init?: RequestInit): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/**
 * A flapping broker (issue 10, item 2): Kafka stopped 3 s, started, stopped 2 s, started. kafkajs
 * gives up on a consumer for good after some of the errors this causes ("Failed to find group
 * coordinator", CRASH with restart: false); the relay then never rejoined and the echo sample's
 * process exited. Both must come back by themselves: a request after recovery answers 200 and the
 * sample process is still running.
 */
describe('integration: consumers recover from a flapping broker', function () {
  this.timeout(420_000);

  let stack: TestStack;
  const children: ChildReplica[] = [];

  before(async function () {
    stack = await useTestStack();
    if (stack.control === undefined) this.skip();
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop(5_000).catch(() => undefined)));
  });

  it('relay and responder rejoin after Kafka stops 3 s, starts, stops 2 s, starts', async () => {
    const control = stack.control!;
    const names = uniqueGatewayNames('flap');
    const topic = unique('flap.echo');
    // A new topic's metadata can lag on the broker ("does not host this topic-partition"); creating
    // again is harmless.
    await waitFor(
      () =>
        createTopics(stack, [topic, names.replyTopic], 2).then(
          () => true,
          () => false,
        ),
      30_000,
      'topics to be created',
      500,
    );
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${topic}
    key: params.id
    timeoutMs: 3000
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes, REPLYGATE_RELAY_SESSION_TIMEOUT_MS: '6000' });
    const relay = await startReplica('relay', env);
    children.push(relay);
    const http = await startReplica('http', env);
    children.push(http);
    const echo = await startProcess(['sample', 'echo', '--topic', topic, '--group', unique('flap-echo')], {
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
    });
    children.push(echo);
    const post = () =>
      status(http.port, `/echo/${unique('k')}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
    expect(await post(), 'before the outage').to.equal(200);

    await control('stop', 'kafka');
    await sleep(3_000);
    await control('start', 'kafka');
    await control('stop', 'kafka');
    await sleep(2_000);
    await control('start', 'kafka');

    // The fault reached the relay: it left its group (readiness 503) at some point, or crashed.
    const relayReady = () => status(relay.port, '/readyz');
    await waitFor(async () => (await relayReady()) === 200, 180_000, 'the relay to rejoin its group (/readyz 200)');
    await waitFor(async () => (await status(http.port, '/readyz')) === 200, 60_000, 'the http replica to be ready');
    expect(echo.child.exitCode, `echo sample exited:\n${echo.output.slice(-20).join('\n')}`).to.equal(null);
    // The echo service's group may still be settling: the first request after recovery may wait
    // for it, but it must be answered, and every later one too.
    await waitFor(async () => (await post()) === 200, 60_000, 'a request answered 200 after recovery');
    for (let i = 0; i < 5; i++) expect(await post(), `request ${i} after recovery`).to.equal(200);
    expect(await status(relay.port, '/healthz'), 'relay /healthz').to.equal(200);
    expect(echo.child.exitCode, 'echo sample still running').to.equal(null);
    const page = await metricsOf(relay);
    expect(metricValue(page, 'replygate_component_up', { component: 'relay' }), 'relay component up').to.equal(1);
    // The fault reached the relay: it joined again after the outage (the broker forgot the group's
    // members), or its membership outlived the restarts (a 6 s session, outages of 3 and 2 s: seen
    // in CI on 2026-12-02) but it lost its broker connections, which the log creator reports.
    const joins = metricValue(page, 'replygate_consumer_group_joins_total', { component: 'relay' });
    const lostBroker = relay.output.some((line) => line.includes('kafka broker unreachable'));
    expect(
      joins >= 2 || lostBroker,
      `relay group joins ${joins}, 'kafka broker unreachable' logged: ${lostBroker}`,
    ).to.equal(true);
  });
});
