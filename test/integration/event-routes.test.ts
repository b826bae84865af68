import { expect } from 'chai';
import type { Consumer, Producer } from 'kafkajs';
import type { ChildReplica } from '../support/processes';
import { entityOf } from '../../src/protocol/event-await';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  metricValue,
  metricsOf,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import { dataNodes, testRedis } from '../support/test-redis';
import type { RedisClient } from '../../src/redis/redis-connections';

/**
 * Event-driven routes (issue 15) on real Kafka and Redis: two `http` replicas that read no event
 * and one `relay` process that serves no request, so every answer crosses from the relay's event
 * consumer to the originating replica through Redis. The services are plain kafkajs producers that
 * know nothing of replygate: no correlation header anywhere.
 */
describe('integration: event-driven routes (await)', function () {
  this.timeout(60_000);

  let stack: TestStack;
  let names: GatewayNames;
  let redis: RedisClient;
  let producer: Producer;
  const userCommands = unique('users.commands');
  const usersCreated = unique('users.created');
  const orderCommands = unique('orders.commands');
  const silentCommands = unique('orders.silent');
  const orderEvents = unique('orders.events');
  const https: ChildReplica[] = [];
  let relay: ChildReplica;
  const consumers: Consumer[] = [];
  let env: Record<string, string>;
  let eventGroup: string;

  const url = (i: number, path: string) => `http://127.0.0.1:${https[i % https.length]!.port}${path}`;
  const post = (i: number, path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(i, path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const orderEvent = (id: string, status: string, timestamp?: number, extra: Record<string, unknown> = {}) =>
    producer.send({
      topic: orderEvents,
      messages: [
        {
          key: id,
          value: JSON.stringify({ id, status, ...extra }),
          ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }),
        },
      ],
    });
  const relayMetric = async (name: string, labels: Record<string, string> = {}) =>
    metricValue(await metricsOf(relay), name, labels);
  /** Waiters registered in Redis on one entity of a route. */
  const waiterCount = (route: string, value: string) =>
    redis.zcard(new ReplyKeys(names.keyPrefix).awaitWaiters(route, entityOf([value])));

  before(async function () {
    // Starting three replicas takes long on a loaded machine; the tests themselves stay short.
    this.timeout(120_000);
    stack = await useTestStack();
    names = uniqueGatewayNames('events');
    await createTopics(stack, [
      userCommands,
      usersCreated,
      orderCommands,
      silentCommands,
      orderEvents,
      names.replyTopic,
    ]);
    const state = 'state: { field: value.status, in: [VALIDATED, REJECTED], status: { REJECTED: 422 } }';
    const routes = writeRoutes(`
routes:
  - name: createUser
    method: POST
    path: /users
    topic: ${userCommands}
    key: body.email
    timeoutMs: 20000
    await: { topic: ${usersCreated}, match: { value.payload.after.email: body.email } }
  - name: placeOrder
    method: POST
    path: /orders
    topic: ${orderCommands}
    key: body.id
    timeoutMs: 20000
    await: { topic: ${orderEvents}, match: { key: body.id }, ${state} }
  - name: placeOrderUnanswered
    method: POST
    path: /orders-unanswered
    topic: ${silentCommands}
    key: body.id
    timeoutMs: 20000
    await: { topic: ${orderEvents}, match: { key: body.id }, ${state} }
  - name: placeOrderLate
    method: POST
    path: /orders-late
    topic: ${silentCommands}
    key: body.id
    timeoutMs: 1000
    timeoutResponse: 202
    await: { topic: ${orderEvents}, match: { key: body.id }, ${state} }
  - name: getOrder
    method: GET
    path: /orders/:id
    timeoutMs: 20000
    await: { topic: ${orderEvents}, match: { key: params.id }, ${state}, maxWaiters: 2 }
  - name: watchOrder
    method: GET
    path: /orders/:id/watch
    timeoutMs: 20000
    stream: true
    await: { topic: ${orderEvents}, match: { key: params.id }, ${state} }
  - name: getOrderNow
    method: GET
    path: /orders/:id/now
    timeoutMs: 1500
    await: { topic: ${orderEvents}, match: { value.id: params.id }, ${state} }
`);
    env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REPLYGATE_EVENT_GROUP: (eventGroup = unique('events')),
      REPLYGATE_MAX_REPLY_BYTES: '65536',
    });
    const started = await Promise.all([
      startReplica('http', env),
      startReplica('http', env),
      startReplica('relay', env),
    ]);
    https.push(started[0]!, started[1]!);
    relay = started[2]!;
    redis = await testRedis(stack, 'event-routes');
    producer = testKafka(stack).producer();
    await producer.connect();
    // The users service of seed 003: creates the user, emits a Debezium-style change event.
    await service(userCommands, async (value) => {
      const user = JSON.parse(value) as { email: string; name: string };
      await producer.send({
        topic: usersCreated,
        messages: [
          { key: user.email, value: JSON.stringify({ payload: { after: { id: `u-${user.name}`, ...user } } }) },
        ],
      });
    });
    // The orders service: CREATED, then VALIDATED (or REJECTED without items), keyed by order id.
    await service(orderCommands, async (value) => {
      const order = JSON.parse(value) as { id: string; items: unknown[] };
      await orderEvent(order.id, 'CREATED');
      await orderEvent(order.id, order.items.length > 0 ? 'VALIDATED' : 'REJECTED');
    });
  });

  after(async function () {
    await Promise.allSettled([...https, relay].map((r) => r?.stop()));
    await Promise.allSettled(consumers.map((c) => c.disconnect()));
    await producer?.disconnect();
    redis?.disconnect();
  });

  /** A plain kafkajs service on `topic`; resolves once its group is joined. */
  async function service(topic: string, handle: (value: string) => Promise<void>): Promise<void> {
    const consumer = testKafka(stack).consumer({ groupId: unique('svc') });
    consumers.push(consumer);
    const joined = new Promise<void>((res) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        res();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: ({ message }) => handle(message.value!.toString()) });
    await joined;
  }

  it('POST /users publishes the command and answers with the matching users.created event (seed 003)', async function () {
    const email = `${unique('ada')}@example.com`;
    const res = await post(0, '/users', { email, name: 'ada' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ payload: { after: { id: 'u-ada', email, name: 'ada' } } });
  });

  it('POST /orders answers at VALIDATED, and REJECTED maps to 422', async function () {
    const ok = await post(1, '/orders', { id: unique('o'), items: [{ sku: 'tea' }] });
    expect(ok.status).to.equal(200);
    expect(((await ok.json()) as { status: string }).status).to.equal('VALIDATED');
    const rejected = await post(0, '/orders', { id: unique('o'), items: [] });
    expect(rejected.status).to.equal(422);
    expect(((await rejected.json()) as { status: string }).status).to.equal('REJECTED');
  });

  it('never answers a command with an event older than it, even one read after the waiter registered', async function () {
    const id = unique('o');
    const before = await relayMetric('replygate_event_answers_total', { result: 'stale' });
    const pending = post(0, '/orders-unanswered', { id, items: [1] });
    await waitFor(async () => (await waiterCount('placeOrderUnanswered', id)) > 0, 10_000, 'the waiter registered');
    // A VALIDATED event for the same order, stamped before the command: read now, it must answer nobody.
    await orderEvent(id, 'VALIDATED', Date.now() - 2000, { stale: true });
    await waitFor(
      async () => (await relayMetric('replygate_event_answers_total', { result: 'stale' })) > before,
      10_000,
      'the stale event passed over',
    );
    await orderEvent(id, 'VALIDATED');
    const res = await pending;
    expect(res.status).to.equal(200);
    // The answer is the fresh event, not the stale one read first.
    expect(await res.json()).to.deep.equal({ id, status: 'VALIDATED' });
  });

  it('blocking read: answers at once when the order is already in the state', async function () {
    const id = unique('o');
    await orderEvent(id, 'CREATED');
    await orderEvent(id, 'VALIDATED');
    // Once the relay kept VALIDATED (flag byte 1), a read must answer from it: no event is coming.
    const stateKey = new ReplyKeys(names.keyPrefix).awaitState('getOrderNow', entityOf([id]));
    await waitFor(async () => (await redis.getrange(stateKey, 0, 0)) === '1', 10_000, 'VALIDATED kept');
    const res = await fetch(url(1, `/orders/${id}/now`));
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ id, status: 'VALIDATED' });
  });

  it('blocking read: 504 while the order is in another state', async function () {
    const id = unique('o');
    await orderEvent(id, 'CREATED');
    const res = await fetch(url(0, `/orders/${id}/now`));
    expect(res.status).to.equal(504);
  });

  it('blocking read: every waiter of an entity is answered when it reaches the state; another key wakes nobody', async function () {
    const id = unique('o');
    const other = unique('o');
    const settled: number[] = [];
    const waiters = [0, 1].map((i) =>
      fetch(url(i, `/orders/${id}`)).then(async (res) => {
        settled.push(res.status);
        return { status: res.status, body: (await res.json()) as { id: string; status: string } };
      }),
    );
    await waitFor(async () => (await waiterCount('getOrder', id)) >= 2, 10_000, 'both waiters registered');
    const matched = await relayMetric('replygate_event_messages_total', { result: 'matched' });
    await orderEvent(other, 'VALIDATED');
    await orderEvent(id, 'CREATED');
    await waitFor(
      async () => (await relayMetric('replygate_event_messages_total', { result: 'matched' })) >= matched + 2,
      10_000,
      'the relay read both events',
    );
    expect(settled, 'an event for another key, or a state not awaited, woke a waiter').to.deep.equal([]);
    await orderEvent(id, 'VALIDATED');
    const answers = await Promise.all(waiters);
    for (const a of answers) {
      expect(a.status).to.equal(200);
      expect(a.body).to.deep.equal({ id, status: 'VALIDATED' });
    }
  });

  it('stream: true streams each matching event as an NDJSON line until the awaited state', async function () {
    const id = unique('o');
    const streamed = fetch(url(1, `/orders/${id}/watch`)).then(async (res) => ({
      status: res.status,
      lines: (await res.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    }));
    await waitFor(async () => (await waiterCount('watchOrder', id)) === 1, 10_000, 'the stream registered');
    await orderEvent(unique('o'), 'CREATED'); // another order: not a line
    await orderEvent(id, 'CREATED');
    await orderEvent(id, 'REJECTED');
    await orderEvent(id, 'VALIDATED'); // after the final state: not a line
    const res = await streamed;
    expect(res.status).to.equal(200);
    expect(res.lines).to.deep.equal([
      { seq: 0, status: 200, body: { id, status: 'CREATED' } },
      { seq: 1, status: 422, body: { id, status: 'REJECTED' } },
    ]);
  });

  it('bounds the waiters on one entity (await.maxWaiters) with 429', async function () {
    const id = unique('o');
    const held = [0, 1].map((i) => fetch(url(i, `/orders/${id}`)));
    await waitFor(async () => (await waiterCount('getOrder', id)) >= 2, 10_000, 'two waiters registered');
    const third = await fetch(url(0, `/orders/${id}`));
    expect(third.status).to.equal(429);
    expect(((await third.json()) as { error: string }).error).to.equal('RG_RATE_LIMITED');
    await orderEvent(id, 'REJECTED');
    const answered = await Promise.all(held);
    expect(answered.map((r) => r.status)).to.deep.equal([422, 422]);
  });

  it('a 400 names the missing match value: a caller can only wait on what the route lets it name', async function () {
    const res = await post(0, '/orders', { items: [1] });
    expect(res.status).to.equal(400);
  });

  it('Prefer: respond-async answers 202; another replica long-polls and streams the event (SSE)', async function () {
    const email = `${unique('bob')}@example.com`;
    const accepted = await post(0, '/users', { email, name: 'bob' }, { prefer: 'respond-async' });
    expect(accepted.status).to.equal(202);
    const location = accepted.headers.get('location')!;
    const token = accepted.headers.get('replygate-reply-token')!;
    const res = await fetch(url(1, location), { headers: { prefer: 'wait=15', 'replygate-reply-token': token } });
    expect(res.status).to.equal(200);
    expect(((await res.json()) as { payload: { after: { email: string } } }).payload.after.email).to.equal(email);
    const sse = await fetch(url(1, `${location}/events`), { headers: { 'replygate-reply-token': token } });
    const text = await sse.text();
    expect(text).to.include('event: reply');
    expect(text).to.include(email);
  });

  it('timeoutResponse: 202 keeps waiting for the late event, which the Location then serves', async function () {
    const id = unique('o');
    const accepted = await post(1, '/orders-late', { id, items: [1] });
    expect(accepted.status).to.equal(202);
    const location = accepted.headers.get('location')!;
    const token = accepted.headers.get('replygate-reply-token')!;
    await orderEvent(id, 'VALIDATED');
    const res = await fetch(url(0, location), { headers: { prefer: 'wait=15', 'replygate-reply-token': token } });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ id, status: 'VALIDATED' });
  });

  it('skips and counts huge and non-JSON events, and keeps answering', async function () {
    const before = await relayMetric('replygate_event_skipped_total');
    await producer.send({
      topic: orderEvents,
      messages: [
        { key: 'x', value: 'not json {' },
        { key: 'x', value: JSON.stringify({ pad: 'x'.repeat(100_000) }) },
      ],
    });
    await waitFor(
      async () => (await relayMetric('replygate_event_skipped_total')) >= before + 2,
      15_000,
      'both events skipped',
    );
    expect(await relayMetric('replygate_event_skipped_total', { reason: 'not-json' })).to.be.greaterThan(0);
    expect(await relayMetric('replygate_event_skipped_total', { reason: 'too-large' })).to.be.greaterThan(0);
    const res = await post(1, '/orders', { id: unique('o'), items: [1] });
    expect(res.status).to.equal(200);
  });

  it('commits an event offset only after its answer is in Redis: a relay killed before the write loses nothing', async function () {
    const id = unique('o');
    const answer = fetch(url(0, `/orders/${id}`)).then(async (res) => ({ status: res.status, body: await res.json() }));
    await waitFor(async () => (await waiterCount('getOrder', id)) === 1, 10_000, 'the waiter registered');
    const matched = await relayMetric('replygate_event_messages_total', { result: 'matched' });
    // Writes wait while Redis is paused: the relay reads the event and cannot store its answer.
    await Promise.all(dataNodes(redis).map((node) => node.client('PAUSE', 8000, 'WRITE')));
    let killed = false;
    let sent: { partition: number; baseOffset?: string } | undefined;
    try {
      [sent] = await orderEvent(id, 'VALIDATED');
      await waitFor(
        async () => (await relayMetric('replygate_event_messages_total', { result: 'matched' })) > matched,
        10_000,
        'the relay read the event',
      );
      await relay.kill();
      killed = true;
    } finally {
      await Promise.all(dataNodes(redis).map((node) => node.client('UNPAUSE')));
    }
    expect(killed).to.equal(true);
    const admin = testKafka(stack).admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: eventGroup, topics: [orderEvents] });
      const offset = committed?.partitions.find((p) => p.partition === sent?.partition)?.offset ?? '-1';
      expect(
        BigInt(offset) <= BigInt(sent?.baseOffset ?? '0'),
        'the killed relay committed an event it had not written',
      ).to.equal(true);
    } finally {
      await admin.disconnect();
    }
    // The next relay of the group re-reads from the last commit and answers the waiter.
    relay = await startReplica('relay', env, { REPLYGATE_RELAY_SESSION_TIMEOUT_MS: '6000' });
    const res = await answer;
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ id, status: 'VALIDATED' });
  });
});
