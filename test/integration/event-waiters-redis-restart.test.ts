import { expect } from 'chai';
import type { Producer } from 'kafkajs';
import { entityOf } from '../../src/protocol/event-await';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import type { ChildReplica } from '../support/processes';
import {
  createTopics,
  gatewayEnv,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/** Long enough that a request still waits well after Redis came back and the relay re-read. */
const ROUTE_TIMEOUT_MS = 45_000;

/**
 * Event waiters across a Redis restart without persistence (issue 15, faults): the waiters'
 * registrations and the kept states live in Redis and vanish with it. The http replica registers
 * its parked waiters again when it sees the new run_id, and the event relay re-reads the event
 * topics a few seconds later, so an event that arrives after the restart, or while Redis is down,
 * still answers. An `http` and a `relay` process of their own, on a private redis-server.
 */
describe('integration: event waiters survive a Redis restart', function () {
  this.timeout(150_000);

  let stack: TestStack;
  let names: GatewayNames;
  let redis: PrivateRedis;
  let producer: Producer;
  let http: ChildReplica | undefined;
  let relay: ChildReplica | undefined;
  const silentCommands = unique('restart.commands');
  const orderEvents = unique('restart.events');

  before(async function () {
    stack = await useTestStack();
    redis = await startPrivateRedis('KEA');
    names = uniqueGatewayNames('evrestart');
    await createTopics(stack, [silentCommands, orderEvents, names.replyTopic]);
    const state = 'state: { field: value.status, in: [VALIDATED] }';
    const routes = writeRoutes(`
routes:
  - name: placeOrder
    method: POST
    path: /orders
    topic: ${silentCommands}
    key: body.id
    timeoutMs: ${ROUTE_TIMEOUT_MS}
    await: { topic: ${orderEvents}, match: { key: body.id }, ${state} }
  - name: getOrder
    method: GET
    path: /orders/:id
    timeoutMs: ${ROUTE_TIMEOUT_MS}
    await: { topic: ${orderEvents}, match: { key: params.id }, ${state} }
`);
    const env = gatewayEnv(stack, names, {
      REDIS_URL: redis.url,
      REPLYGATE_ROUTES: routes,
      REPLYGATE_EVENT_GROUP: unique('events'),
    });
    [http, relay] = await Promise.all([startReplica('http', env), startReplica('relay', env)]);
    producer = testKafka(stack).producer();
    await producer.connect();
  });

  after(async function () {
    await Promise.allSettled([http?.stop(), relay?.stop()]);
    await producer?.disconnect();
    await redis?.stop();
  });

  const event = (id: string, status: string) =>
    producer.send({ topic: orderEvents, messages: [{ key: id, value: JSON.stringify({ id, status }) }] });
  const waiters = (route: string, id: string) =>
    redis.client.zcard(new ReplyKeys(names.keyPrefix).awaitWaiters(route, entityOf([id])));
  const ready = async () =>
    (await fetch(`http://127.0.0.1:${http!.port}/readyz`).catch(() => undefined))?.status === 200;

  it('answers a command waiter and a blocking read whose events come after the restart or during it', async function () {
    const base = `http://127.0.0.1:${http!.port}`;
    const [after, during, read] = [unique('o-after'), unique('o-during'), unique('o-read')];
    const post = (id: string) =>
      fetch(`${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
    const answers = Promise.all([post(after), post(during), fetch(`${base}/orders/${read}`)]);
    await waitFor(
      async () =>
        (await waiters('placeOrder', after)) === 1 &&
        (await waiters('placeOrder', during)) === 1 &&
        (await waiters('getOrder', read)) === 1,
      20_000,
      'the three waiters registered in Redis',
    );

    // SIGKILL and start again: every key is gone. One event arrives while Redis is down (the
    // relay holds it, retrying), the others once the replica is ready again.
    const runId = async () => /run_id:(\w+)/.exec(await redis.client.info('server'))?.[1];
    const before = await runId();
    await redis.restart(async () => {
      await event(during, 'VALIDATED');
    });
    expect(await runId(), 'a new run_id').to.not.equal(before);
    await waitFor(ready, 30_000, 'the http replica ready again after the restart', 200);
    await event(after, 'VALIDATED');
    await event(read, 'VALIDATED');

    const [a, d, r] = await answers;
    const body = async (res: Response) => ({ status: res.status, text: await res.text() });
    const got = { after: await body(a), during: await body(d), read: await body(r) };
    expect(got.after.status, JSON.stringify(got)).to.equal(200);
    expect(JSON.parse(got.after.text)).to.deep.equal({ id: after, status: 'VALIDATED' });
    expect(got.during.status, JSON.stringify(got)).to.equal(200);
    expect(JSON.parse(got.during.text)).to.deep.equal({ id: during, status: 'VALIDATED' });
    expect(got.read.status, JSON.stringify(got)).to.equal(200);
    expect(JSON.parse(got.read.text)).to.deep.equal({ id: read, status: 'VALIDATED' });
  });
});
