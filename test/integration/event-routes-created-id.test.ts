import { expect } from 'chai';
import type { Consumer, IHeaders, Producer } from 'kafkajs';
import type { ChildReplica } from '../support/processes';
import { entityOf } from '../../src/protocol/event-await';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';
import { testRedis } from '../support/test-redis';
import type { RedisClient } from '../../src/redis/redis-connections';

/**
 * Event routes matched on the id the command created (issue 15, `reply.body.…`): the orders
 * service is a plain kafkajs consumer that answers the command with a correlated reply naming the
 * order it created, and emits the order's events to an event topic without any replygate header,
 * before or after that reply. An `http` replica serves the requests, a `relay` process reads the
 * replies and the events, so every answer crosses Redis.
 */
describe('integration: event routes matched on the created id (await: reply.body)', function () {
  this.timeout(60_000);

  let stack: TestStack;
  let names: GatewayNames;
  let redis: RedisClient;
  let producer: Producer;
  let consumer: Consumer | undefined;
  const TIMEOUT_MS = 15_000;
  const commands = unique('orders.create');
  const events = unique('orders.events');
  let http: ChildReplica;
  let relay: ChildReplica;

  /** What the test tells the service to do with one command (carried in the command body). */
  interface Script {
    /** The order id the service "creates" (the test knows it, to look at Redis and stale events). */
    orderId: string;
    /** Emit the order's events before replying (and wait until the relay kept it), or after. */
    events: 'before' | 'after';
    /** Reply with this instead of `{ orderId }` (status, body). */
    reply?: { status: number; body: unknown };
  }

  const keys = () => new ReplyKeys(names.keyPrefix);
  const stateKey = (orderId: string) => keys().awaitState('createOrder', entityOf([orderId]));
  const waiterCount = (orderId: string) => redis.zcard(keys().awaitWaiters('createOrder', entityOf([orderId])));
  const keptTimestamp = async (orderId: string) => {
    const record = await redis.get(stateKey(orderId));
    return record === null ? undefined : Number(/^[01](\d+) /.exec(record)?.[1]);
  };
  const orderEvent = (orderId: string, status: string, extra: Record<string, unknown> = {}, timestamp?: number) =>
    producer.send({
      topic: events,
      messages: [
        {
          key: orderId,
          value: JSON.stringify({ orderId, status, ...extra }),
          ...(timestamp === undefined ? {} : { timestamp: String(timestamp) }),
        },
      ],
    });
  const post = (script: Script, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${http.port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(script),
    });

  before(async function () {
    this.timeout(120_000);
    stack = await useTestStack();
    names = uniqueGatewayNames('created-id');
    await createTopics(stack, [commands, events, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: createOrder
    method: POST
    path: /orders
    topic: ${commands}
    timeoutMs: ${TIMEOUT_MS}
    await:
      topic: ${events}
      match: { key: reply.body.orderId }
      state: { field: value.status, in: [VALIDATED] }
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes, REPLYGATE_EVENT_GROUP: unique('events') });
    [http, relay] = await Promise.all([startReplica('http', env), startReplica('relay', env)]);
    redis = await testRedis(stack, 'created-id');
    producer = testKafka(stack).producer();
    await producer.connect();
    consumer = testKafka(stack).consumer({ groupId: unique('orders-svc') });
    const joined = new Promise<void>((res) => {
      const off = consumer!.on(consumer!.events.GROUP_JOIN, () => {
        off();
        res();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: commands, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const script = JSON.parse(message.value!.toString()) as Script;
        void handle(script, message.headers ?? {}).catch((err: unknown) => console.error('orders service', err));
      },
    });
    await joined;
  });

  after(async function () {
    await Promise.allSettled([http, relay].map((r) => r?.stop()));
    await consumer?.disconnect();
    await producer?.disconnect();
    redis?.disconnect();
  });

  /** The orders service: a correlated reply naming the created order, its events before or after. */
  async function handle(script: Script, headers: IHeaders): Promise<void> {
    const correlationId = headers['rg-correlation-id']!.toString();
    const replyTo = headers['rg-reply-to']!.toString();
    const { orderId } = script;
    const reply = script.reply ?? { status: 200, body: { orderId } };
    const sendReply = () =>
      producer.send({
        topic: replyTo,
        messages: [
          {
            value: JSON.stringify(reply.body),
            headers: {
              'rg-correlation-id': correlationId,
              'rg-status': String(reply.status),
              'content-type': 'application/json',
            },
          },
        ],
      });
    if (script.events === 'before') {
      const since = Date.now();
      await orderEvent(orderId, 'CREATED');
      await orderEvent(orderId, 'VALIDATED');
      // The relay has read VALIDATED before the gateway can know the order's id: the lost-race case.
      await waitFor(async () => ((await keptTimestamp(orderId)) ?? 0) >= since, 15_000, 'VALIDATED kept');
      await waitFor(async () => (await redis.getrange(stateKey(orderId), 0, 0)) === '1', 15_000, 'VALIDATED kept');
      await sendReply();
      return;
    }
    await sendReply();
    if (script.reply !== undefined) return;
    // The gateway registers once it has the reply; the events come after that.
    await waitFor(async () => (await waiterCount(orderId)) > 0, 15_000, 'the waiter registered');
    // A VALIDATED event stamped 1 ms before the command (the gateway took `since` with the same
    // clock reading as the deadline it sent: deadline - timeoutMs), read after the waiter registered.
    const since = Number(headers['rg-deadline']!.toString()) - TIMEOUT_MS;
    await orderEvent(orderId, 'VALIDATED', { stale: 'late-read' }, since - 1);
    await orderEvent(orderId, 'CREATED');
    await orderEvent(orderId, 'VALIDATED');
  }

  it('answers with the event when the service emits it BEFORE its reply (kept, then read at registration)', async function () {
    const orderId = unique('o');
    const res = await post({ orderId, events: 'before' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ orderId, status: 'VALIDATED' });
    // Answered from the kept state: no waiter was left behind.
    expect(await waiterCount(orderId)).to.equal(0);
  });

  it('answers with the event when the service emits it AFTER its reply', async function () {
    const orderId = unique('o');
    const res = await post({ orderId, events: 'after' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ orderId, status: 'VALIDATED' });
  });

  it('never answers with a stale event of the same id, kept before the command or read after it', async function () {
    const orderId = unique('o');
    // An earlier life of this id: VALIDATED, produced and kept before the command exists.
    await orderEvent(orderId, 'VALIDATED', { stale: 'kept' });
    await waitFor(async () => (await redis.getrange(stateKey(orderId), 0, 0)) === '1', 15_000, 'stale state kept');
    const res = await post({ orderId, events: 'after' });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ orderId, status: 'VALIDATED' });
  });

  it('works with Prefer: respond-async (the event is stored under the request id)', async function () {
    const orderId = unique('o');
    const accepted = await post({ orderId, events: 'after' }, { prefer: 'respond-async' });
    expect(accepted.status).to.equal(202);
    const location = accepted.headers.get('location')!;
    const token = accepted.headers.get('replygate-reply-token')!;
    const res = await fetch(`http://127.0.0.1:${http.port}${location}`, {
      headers: { prefer: 'wait=15', 'replygate-reply-token': token },
    });
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ orderId, status: 'VALIDATED' });
  });

  it('answers 502 naming the reply field when the reply does not carry the created id', async function () {
    const orderId = unique('o');
    const res = await post({ orderId, events: 'after', reply: { status: 201, body: { id: orderId } } });
    expect(res.status).to.equal(502);
    const problem = (await res.json()) as { error: string; detail: string; details: { replyField: string } };
    expect(problem.error).to.equal('RG_REPLY_MALFORMED');
    expect(problem.details.replyField).to.equal('reply.body.orderId');
    expect(problem.detail).to.contain('reply.body.orderId');
  });

  it("passes the service's refusal (a reply outside 2xx) through, without waiting for an event", async function () {
    const orderId = unique('o');
    const res = await post({ orderId, events: 'after', reply: { status: 409, body: { error: 'duplicate' } } });
    expect(res.status).to.equal(409);
    expect(await res.json()).to.deep.equal({ error: 'duplicate' });
  });
});
