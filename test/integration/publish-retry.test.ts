import { createServer, connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { Kafka, logLevel, type Admin, type ISocketFactory } from 'kafkajs';
import { KafkaRequestPublisher } from '../../src/kafka/kafka-request-publisher';
import { silentLogger } from '../../src/observability/logger';
import type { OutgoingRequest } from '../../src/protocol/outgoing-request';
import { createTopics, testKafka } from '../support/gateway-fixture';
import { useTestStack } from '../support/test-stack';
import { unique } from '../support/unique';

/** A port nothing listens on: connecting to it is refused, as to a broker that died. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * kafkajs connections to the real brokers, of which the ones to the partition leaders can be cut.
 * The client bootstraps from aliases of the brokers (`seed-<i>:<port>`, dialled at the real
 * address): kafkajs keeps its seed connection apart from its connections to the node ids the
 * metadata names, so with the leaders cut the cluster still answers metadata, as when one broker
 * of several has died. `cut()` resets every open leader connection (as a crashed broker's) and
 * refuses new ones; `restore()` lets them through again.
 */
function cuttableLeaders(
  brokers: string[],
  refusedPort: number,
): { seeds: string[]; socketFactory: ISocketFactory; cut(): void; restore(): void } {
  const real = new Map(brokers.map((b, i) => [`seed-${i}`, b.slice(0, b.lastIndexOf(':'))]));
  const open = new Set<Socket>();
  let cutOff = false;
  return {
    seeds: brokers.map((b, i) => `seed-${i}${b.slice(b.lastIndexOf(':'))}`),
    socketFactory: ({ host, port, onConnect }) => {
      const seed = real.get(host);
      const socket = connect(
        seed !== undefined ? { host: seed, port } : cutOff ? { host: '127.0.0.1', port: refusedPort } : { host, port },
        onConnect,
      );
      if (seed === undefined) {
        open.add(socket);
        socket.on('close', () => open.delete(socket));
      }
      return socket;
    },
    cut() {
      cutOff = true;
      // As a crashed broker's connections end: reset by the peer ('error', then 'close').
      for (const s of open) s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    },
    restore() {
      cutOff = false;
    },
  };
}

/**
 * The request publisher on real brokers whose partition leaders cannot be reached for a while
 * (the rest of the cluster answering): a request is sent again until its deadline, so a failover
 * shorter than the route timeout costs latency, not an error (before, kafkajs gave up after its
 * five retries, ~3 s, whatever the deadline), and a request whose deadline passes first is
 * rejected at its deadline, not later.
 */
describe('integration: publish retries bounded by the request deadline', function () {
  this.timeout(60_000);
  let admin: Admin;
  let publisher: KafkaRequestPublisher;
  let net: ReturnType<typeof cuttableLeaders>;
  const topic = unique('publish-retry');

  const request = (deadline: number): OutgoingRequest => ({
    topic,
    dialect: 'replygate',
    correlationId: unique('retry'),
    replyTopic: 'replies',
    deadline,
    route: 'retry',
    method: 'POST',
    path: '/retry',
    params: {},
    query: {},
    headers: {},
    contentType: 'application/json',
    body: Buffer.from('{}'),
    key: undefined,
  });
  const written = async () =>
    (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);

  before(async () => {
    const stack = await useTestStack();
    // On three brokers a new topic can be unknown for a moment to the broker asked: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await createTopics(stack, [topic], 2);
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
    admin = testKafka(stack).admin();
    await admin.connect();
    net = cuttableLeaders(stack.kafkaBrokers, await closedPort());
    // The gateway's client settings (src/kafka/kafka-client.ts), with connections that can be cut.
    const kafka = new Kafka({
      clientId: unique('publish-retry'),
      brokers: net.seeds,
      connectionTimeout: 3000,
      requestTimeout: 10000,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 3000 },
      logLevel: logLevel.NOTHING,
      socketFactory: net.socketFactory,
    });
    publisher = new KafkaRequestPublisher(kafka, silentLogger(), { mode: 'adaptive', lingerMs: 0 });
    await publisher.connect();
    await publisher.publish(request(Date.now() + 10_000)); // metadata fetched, connections open
    expect(await written()).to.equal(1);
  });

  after(async () => {
    net?.restore();
    await publisher?.disconnect();
    await admin?.disconnect();
  });

  it('a request sent while its leader cannot be reached is published once it can, within its deadline', async () => {
    net.cut();
    const started = Date.now();
    const settled = publisher.publish(request(started + 15_000)).then(
      () => 'published',
      (err: unknown) => `rejected after ${Date.now() - started} ms: ${String(err)}`,
    );
    // Longer than kafkajs' own retries of a send last (5 retries, 100 ms doubling to 2000 ms: ~3 s).
    await new Promise((r) => setTimeout(r, 6_000));
    expect(await Promise.race([settled, 'pending']), 'still being retried after 6 s').to.equal('pending');
    net.restore();
    expect(await settled).to.equal('published');
    expect(Date.now() - started).to.be.within(6_000, 15_000);
    expect(await written(), 'on the topic').to.equal(2);
  });

  it('a request whose deadline passes while its leader cannot be reached is rejected at its deadline', async () => {
    net.cut();
    try {
      const started = Date.now();
      const err = await publisher.publish(request(started + 2_000)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, 'rejected').to.be.instanceOf(Error);
      expect(Date.now() - started).to.be.within(1_900, 2_500);
    } finally {
      net.restore();
    }
  });
});
