import { countMessagesWithKey } from '../support/topic-messages';
import { expect } from 'chai';
import type { Producer } from 'kafkajs';
import { createEchoService } from '../../examples/samples/echo-service';
import type { Responder } from '../../src/responder/responder-options';
import { silentLogger } from '../../src/observability/logger';
import type { ChildReplica } from '../support/processes';
import { scanKeys } from '../support/redis-keys';
import { useTestStack, type TestStack } from '../support/test-stack';
import { testRedis } from '../support/test-redis';
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

/**
 * The core promise, on real Kafka and Redis with every part a separate process: three `http`
 * replicas that relay nothing, two `relay` processes that serve no requests. Every reply therefore
 * crosses from a relay process to the originating replica through Redis.
 */
describe('integration: core request-reply across replicas', function () {
  this.timeout(180_000);

  let stack: TestStack;
  let names: GatewayNames;
  const echoTopic = unique('echo.requests');
  const silentTopic = unique('silent.requests');
  const badTopic = unique('bad.requests');
  const springTopic = unique('spring.requests');
  const nestTopic = unique('nest.requests');
  const https: ChildReplica[] = [];
  const relays: ChildReplica[] = [];
  const responders: Responder[] = [];
  const stopFns: (() => Promise<void>)[] = [];
  let producer: Producer;

  const url = (i: number, path: string) => `http://127.0.0.1:${https[i % https.length]!.port}${path}`;

  before(async function () {
    stack = await useTestStack();
    names = uniqueGatewayNames('core');
    await createTopics(stack, [echoTopic, silentTopic, badTopic, springTopic, nestTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - name: echo
    method: POST
    path: /echo/:id
    topic: ${echoTopic}
    key: params.id
    # Generous: the tests assert correctness, not speed, on a shared 2-core machine.
    timeoutMs: 60000
    forwardHeaders: [x-request-id, authorization, cookie]
    forwardAuthorization: true
  - name: echoGet
    method: GET
    path: /echo/:id
    topic: ${echoTopic}
  - name: silent
    method: GET
    path: /silent
    topic: ${silentTopic}
    timeoutMs: 700
  - name: malformed
    method: GET
    path: /malformed
    topic: ${badTopic}
  - name: springGreeting
    method: POST
    path: /spring/greet
    topic: ${springTopic}
    dialect: spring
  - name: nestSum
    method: POST
    path: /nest/sum
    topic: ${nestTopic}
    dialect: nestjs
`);
    const env = gatewayEnv(stack, names, { REPLYGATE_ROUTES: routes });
    const started = await Promise.all([
      startReplica('http', env),
      startReplica('http', env),
      startReplica('http', env),
      startReplica('relay', env),
      startReplica('relay', env),
    ]);
    https.push(...started.slice(0, 3));
    relays.push(...started.slice(3));

    const echo = createEchoService({
      brokers: stack.kafkaBrokers,
      topic: echoTopic,
      groupId: unique('echo'),
      logger: silentLogger(),
    });
    responders.push(echo);
    await Promise.all(responders.map((r) => r.start()));

    producer = testKafka(stack).producer();
    await producer.connect();
    stopFns.push(() => producer.disconnect());
    stopFns.push(...(await startForeignResponders()));
    stopFns.push(await startMalformedReplier());
  });

  after(async function () {
    await Promise.allSettled([...https, ...relays].map((r) => r.stop()));
    await Promise.allSettled(responders.map((r) => r.stop()));
    await Promise.allSettled(stopFns.map((f) => f()));
  });

  /** A replier that answers with a status the gateway cannot use. */
  async function startMalformedReplier(): Promise<() => Promise<void>> {
    const consumer = testKafka(stack).consumer({ groupId: unique('malformed') });
    const joined = new Promise<void>((res) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        res();
      });
    });
    await consumer.connect();
    await consumer.subscribe({ topic: badTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = message.headers ?? {};
        await producer.send({
          topic: h['rg-reply-to']!.toString(),
          messages: [
            { value: 'oops', headers: { 'rg-correlation-id': h['rg-correlation-id']!, 'rg-status': 'banana' } },
          ],
        });
      },
    });
    await joined;
    return () => consumer.disconnect();
  }

  /** Spring- and NestJS-style repliers written with kafkajs, following their header conventions. */
  async function startForeignResponders(): Promise<(() => Promise<void>)[]> {
    const kafka = testKafka(stack);
    const replyProducer = kafka.producer();
    await replyProducer.connect();
    const spring = kafka.consumer({ groupId: unique('spring') });
    const nest = kafka.consumer({ groupId: unique('nest') });
    const joined = (c: typeof spring) =>
      new Promise<void>((res) => {
        const off = c.on(c.events.GROUP_JOIN, () => {
          off();
          res();
        });
      });
    const springJoined = joined(spring);
    const nestJoined = joined(nest);
    await spring.connect();
    await spring.subscribe({ topic: springTopic, fromBeginning: true });
    // Spring @KafkaListener + @SendTo: copy kafka_correlationId (bytes) to the reply, send to kafka_replyTopic.
    await spring.run({
      eachMessage: async ({ message }) => {
        const h = message.headers ?? {};
        const body = JSON.parse(message.value!.toString()) as { name: string };
        await replyProducer.send({
          topic: h['kafka_replyTopic']!.toString(),
          messages: [
            {
              value: JSON.stringify({ greeting: `Hello, ${body.name}` }),
              headers: { kafka_correlationId: h['kafka_correlationId'] as Buffer, __TypeId__: 'com.example.Greeting' },
            },
          ],
        });
      },
    });
    await nest.connect();
    await nest.subscribe({ topic: nestTopic, fromBeginning: true });
    // NestJS @MessagePattern: reply carries kafka_correlationId; a thrown RpcException sets kafka_nest-err.
    await nest.run({
      eachMessage: async ({ message }) => {
        const h = message.headers ?? {};
        const data = JSON.parse(message.value!.toString()) as { a: number; b: number };
        const headers: Record<string, string> = {
          kafka_correlationId: h['kafka_correlationId']!.toString(),
          'kafka_nest-is-disposed': '1',
        };
        let value: string | null = JSON.stringify(data.a + data.b);
        if (typeof data.a !== 'number') {
          headers['kafka_nest-err'] = JSON.stringify({ status: 400, message: 'a must be a number' });
          value = null;
        }
        await replyProducer.send({
          topic: h['kafka_replyTopic']!.toString(),
          messages: [{ value, headers }],
        });
      },
    });
    await Promise.all([springJoined, nestJoined]);
    return [() => spring.disconnect(), () => nest.disconnect(), () => replyProducer.disconnect()];
  }

  it('answers on every replica while the replies are relayed by other processes', async function () {
    const before = await Promise.all(relays.map(metricsOf));
    const storedBefore = before.reduce(
      (s, p) => s + metricValue(p, 'replygate_relay_writes_total', { result: 'stored' }),
      0,
    );
    for (let i = 0; i < 6; i++) {
      const res = await fetch(url(i, `/echo/r${i}?q=${i}`), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': `req-${i}`,
          authorization: 'Bearer t',
          cookie: 'session=secret',
          'x-correlation-id': 'client-chosen',
        },
        body: JSON.stringify({ n: i }),
      });
      expect(res.status).to.equal(200);
      const correlationId = res.headers.get('x-correlation-id')!;
      expect(correlationId.startsWith(`${https[i % 3]!.instanceId}.`)).to.equal(true);
      expect(correlationId).not.to.equal('client-chosen');
      const body = (await res.json()) as {
        params: Record<string, string>;
        body: { n: number };
        query: Record<string, string>;
        headers: Record<string, string>;
      };
      expect(body.params['id']).to.equal(`r${i}`);
      expect(body.body.n).to.equal(i);
      expect(body.query['q']).to.equal(String(i));
      expect(body.headers['x-request-id']).to.equal(`req-${i}`);
      expect(body.headers['authorization']).to.equal('Bearer t');
      expect(body.headers).not.to.have.property('cookie');
    }
    // The relay counts a write after its SET, which already woke the gateway: wait for the count.
    const storedNow = async () =>
      (await Promise.all(relays.map(metricsOf))).reduce(
        (s, p) => s + metricValue(p, 'replygate_relay_writes_total', { result: 'stored' }),
        0,
      );
    await waitFor(async () => (await storedNow()) - storedBefore >= 6, 10_000, 'six stored writes counted');
    // The http replicas run no relay: all six replies crossed into them from the relay processes.
    expect((await storedNow()) - storedBefore).to.equal(6);
    for (const r of https) expect(metricValue(await metricsOf(r), 'replygate_relay_writes_total')).to.equal(0);
  });

  it('answers 1,000 concurrent requests spread over three replicas, each with its own reply', async function () {
    const n = 1000;
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const res = await fetch(url(i, `/echo/k${i % 37}`), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ i }),
        });
        const body = (await res.json()) as { body: { i: number }; params: { id: string } };
        return { status: res.status, i, got: body.body?.i, id: body.params?.id };
      }),
    );
    const wrong = results.filter((r) => r.status !== 200 || r.got !== r.i || r.id !== `k${r.i % 37}`);
    expect(wrong, JSON.stringify(wrong.slice(0, 5))).to.have.length(0);
    for (const r of https) expect(metricValue(await metricsOf(r), 'replygate_pending_requests')).to.equal(0);
  });

  it('answers 504 at the route timeout when no service replies, and leaves nothing pending', async function () {
    const started = Date.now();
    const res = await fetch(url(0, '/silent'));
    const elapsed = Date.now() - started;
    expect(res.status).to.equal(504);
    const body = (await res.json()) as { error: string; correlationId: string };
    expect(body.error).to.equal('RG_REPLY_TIMEOUT');
    expect(body.correlationId).to.equal(res.headers.get('x-correlation-id'));
    expect(elapsed).to.be.at.least(690);
    // Loose on purpose (a busy 2-core machine): it only tells the 700 ms route timeout from the
    // 30 s gateway default.
    expect(elapsed).to.be.below(10_000);
    const page = await metricsOf(https[0]!);
    expect(metricValue(page, 'replygate_pending_requests')).to.equal(0);
    expect(metricValue(page, 'replygate_timeouts_total', { route: 'silent' })).to.be.at.least(1);
  });

  it('never forwards Authorization unless the route says so', async function () {
    const res = await fetch(url(0, '/echo/auth'), { headers: { authorization: 'Bearer secret', cookie: 'a=b' } });
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { headers: Record<string, string> };
    expect(body.headers).not.to.have.property('authorization');
    expect(body.headers).not.to.have.property('cookie');
  });

  it('publishes an idempotent request once, across replicas, even while the first attempt is in flight', async function () {
    const key = unique('idem');
    // The route keys its messages by params.id: the key counts this test's publishes, and only them.
    const send = (i: number, body: string) =>
      fetch(url(i, `/echo/${key}?delayMs=400`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body,
      });
    const idemKeys = async () => (await scanKeys(stack, `${names.keyPrefix}idem:`)).keys;
    const claimedBefore = new Set(await idemKeys());
    const first = send(0, '{"order":1}');
    // The retry must find the key claimed (not race the first attempt for it): wait for the claim.
    await waitFor(
      async () => (await idemKeys()).some((k) => !claimedBefore.has(k)),
      10_000,
      'the first attempt to claim the idempotency key',
    );
    const [a, b] = await Promise.all([first, send(1, '{"order":1}')]);
    expect(a.status).to.equal(200);
    expect(b.status).to.equal(200);
    expect(b.headers.get('idempotent-replayed')).to.equal('true');
    expect(b.headers.get('x-correlation-id')).to.equal(a.headers.get('x-correlation-id'));
    expect(await b.json()).to.deep.equal(await a.json());
    // A later retry on a third replica gets the stored reply at once.
    const c = await send(2, '{"order":1}');
    expect(c.status).to.equal(200);
    expect(c.headers.get('idempotent-replayed')).to.equal('true');
    // The same key with another body is refused.
    const d = await send(2, '{"order":2}');
    expect(d.status).to.equal(422);
    expect(((await d.json()) as { error: string }).error).to.equal('RG_IDEMPOTENCY_KEY_REUSED');
    expect(await countMessagesWithKey(testKafka(stack), echoTopic, key), 'requests published').to.equal(1);
  });

  it("keeps a service's error status", async function () {
    const res = await fetch(url(1, '/echo/x?status=409'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(409);
  });

  it('answers 502 for a malformed reply', async function () {
    const res = await fetch(url(2, '/malformed'));
    expect(res.status).to.equal(502);
    const body = (await res.json()) as { error: string; correlationId: string };
    expect(body.error).to.equal('RG_REPLY_MALFORMED');
    expect(body.correlationId).to.equal(res.headers.get('x-correlation-id'));
  });

  it('skips poison messages on the reply topic and still delivers the next good reply', async function () {
    const poisonBefore = (await Promise.all(relays.map(metricsOf))).reduce(
      (s, p) => s + metricValue(p, 'replygate_relay_poison_total'),
      0,
    );
    await producer.send({
      topic: names.replyTopic,
      messages: [
        { value: 'no headers at all' },
        { value: 'foreign id', headers: { 'rg-correlation-id': 'not-ours' } },
        { value: null, headers: { 'rg-correlation-id': '' } },
        { value: Buffer.from([0xff, 0xfe, 0x00]), headers: { 'rg-correlation-id': '../../etc/passwd' } },
      ],
    });
    const res = await fetch(url(0, '/echo/after-poison'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
    });
    expect(res.status).to.equal(200);
    // The poison messages may sit on other partitions than the good reply: wait for their count.
    const poisonNow = async () =>
      (await Promise.all(relays.map(metricsOf))).reduce(
        (s, p) => s + metricValue(p, 'replygate_relay_poison_total'),
        0,
      );
    await waitFor(async () => (await poisonNow()) - poisonBefore >= 4, 10_000, 'four poison messages counted');
    expect((await poisonNow()) - poisonBefore).to.equal(4);
  });

  it('routes to a Spring-dialect replier', async function () {
    const res = await fetch(url(1, '/spring/greet'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/application\/json/);
    expect(await res.json()).to.deep.equal({ greeting: 'Hello, Ada' });
  });

  it('routes to a NestJS-dialect replier, including its error header', async function () {
    const ok = await fetch(url(2, '/nest/sum'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 2, b: 3 }),
    });
    expect(ok.status).to.equal(200);
    expect(await ok.json()).to.equal(5);
    const err = await fetch(url(0, '/nest/sum'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x', b: 3 }),
    });
    expect(err.status).to.equal(400);
    expect(((await err.json()) as { message: string }).message).to.equal('a must be a number');
  });

  it('gives every key it writes a TTL, the idempotency key one of reply TTL + longest route timeout', async function () {
    // Writes its own keys, so it passes alone; test/support/global-hooks.ts scans every prefix
    // after the whole run.
    const res = await fetch(url(0, '/echo/hygiene'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': unique('hygiene') },
      body: '{}',
    });
    expect(res.status).to.equal(200);
    const id = res.headers.get('x-correlation-id')!;
    const { keys, withoutTtl } = await scanKeys(stack, names.keyPrefix);
    expect(keys, 'the reply key').to.include(`${names.keyPrefix}reply:${id}`);
    expect(withoutTtl, 'keys without TTL').to.deep.equal([]);
    const idem = keys.filter((k) => k.startsWith(`${names.keyPrefix}idem:`));
    expect(idem, 'an idempotency key was written').to.not.be.empty;
    const redis = await testRedis(stack);
    try {
      // REPLYGATE_REPLY_TTL_MS (60 s default) + the longest route timeout (echo: 60 s): a retry
      // is recognised for as long as the first reply can be fetched.
      for (const k of idem) expect(await redis.pttl(k), k).to.be.within(100_000, 120_000);
      expect(await redis.pttl(`${names.keyPrefix}reply:${id}`)).to.be.within(1, 60_000);
    } finally {
      redis.disconnect();
    }
  });
});
