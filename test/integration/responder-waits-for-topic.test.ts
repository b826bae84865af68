import { expect } from 'chai';
import { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { createResponder } from '../../src/responder/create-responder';
import type { Responder, ResponderOptions } from '../../src/responder/responder-options';
import { buildRequestMessage } from '../../src/kafka/request-message';
import { createTopics, testKafka } from '../support/gateway-fixture';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

interface LogLine {
  level: number;
  msg: string;
  topics?: string[];
}

const WARN = 40;
const ERROR = 50;

/** A debug-level logger whose lines are kept, parsed, for the test to read. */
function capturedLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text !== '') lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

async function topicExists(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Publish one request in the gateway's wire format (the gateway's own message builder). */
async function publishRequest(kafka: Kafka, topic: string, replyTopic: string, correlationId: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const message = buildRequestMessage({
      topic,
      dialect: 'replygate',
      correlationId,
      replyTopic,
      deadline: Date.now() + 30_000,
      route: 'echo',
      method: 'POST',
      path: '/echo',
      params: {},
      query: {},
      headers: {},
      contentType: 'application/json',
      body: Buffer.from(JSON.stringify({ hello: 'late topic' })),
      key: undefined,
    });
    await producer.send({ topic, messages: [message] });
  } finally {
    await producer.disconnect();
  }
}

/** The first reply on `replyTopic` carrying `correlationId`: its status and parsed body. */
async function readReply(
  kafka: Kafka,
  replyTopic: string,
  correlationId: string,
  timeoutMs = 30_000,
): Promise<{ status: number; body: unknown }> {
  const consumer = kafka.consumer({ groupId: unique('waits-reader') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: replyTopic, fromBeginning: true });
    const got = new Promise<{ status: number; body: unknown }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (String(message.headers?.['rg-correlation-id']) !== correlationId) return;
          resolve({
            status: Number(String(message.headers?.['rg-status'])),
            body: JSON.parse(message.value?.toString('utf8') ?? 'null') as unknown,
          });
        },
      });
    });
    const timedOut = new Promise<never>((_resolve, reject) =>
      setTimeout(() => reject(new Error(`no reply on ${replyTopic} within ${timeoutMs} ms`)), timeoutMs).unref(),
    );
    return await Promise.race([got, timedOut]);
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Issue #13 item 5: a responder started before its request topic exists waits for it (one warn
 * line naming the topic, readiness false, start() pending, joinTimeoutMs not counting), and serves
 * once the topic is created. The topic is really missing meanwhile: the responder is told not to
 * ask the broker to auto-create it, and an admin checks it is absent. A third case is the default
 * on this auto-creating broker, where the responder's own subscription gets the topic created.
 */
describe('integration: a responder started before its request topic', function () {
  this.timeout(90_000);

  let stack: TestStack;
  let kafka: Kafka;
  const responders: Responder[] = [];

  before(async () => {
    stack = await useTestStack();
    kafka = testKafka(stack);
  });

  afterEach(async () => {
    await Promise.all(responders.splice(0).map((r) => r.stop().catch(() => undefined)));
  });

  function start(topic: string, logger: Logger, extra: Partial<ResponderOptions> = {}) {
    const responder = createResponder({
      brokers: stack.kafkaBrokers,
      topic,
      groupId: unique('waits-group'),
      logger,
      handler: (ctx) => ({ body: { echoed: ctx.json() } }),
      ...extra,
    });
    responders.push(responder);
    const outcome: { settled?: 'resolved' | Error } = {};
    const starting = responder.start().then(
      () => void (outcome.settled = 'resolved'),
      (err: unknown) => void (outcome.settled = err as Error),
    );
    return { responder, outcome, starting };
  }

  it('waits for a missing topic, logs it once at warn, and answers once the topic is created', async () => {
    const topic = unique('waits.requests');
    const replyTopic = unique('waits.replies');
    await createTopics(stack, [replyTopic], 1);
    const { logger, lines } = capturedLogger();
    // joinTimeoutMs far below the wait: waiting for the topic must not count as a slow join.
    const { responder, outcome, starting } = start(topic, logger, {
      allowAutoTopicCreation: false,
      joinTimeoutMs: 1_000,
    });
    const naming = (l: LogLine) => l.topics?.includes(topic) === true && /does not exist/.test(l.msg);
    // Several looks for the topic (each at debug) over ~2.5 s.
    await waitFor(() => lines.filter(naming).length >= 3, 15_000, 'three looks for the missing topic', 50);
    await new Promise((r) => setTimeout(r, 1_500));

    // The fault first: the topic really is missing, and the responder is still there, waiting.
    expect(await topicExists(kafka, topic), 'request topic exists').to.equal(false);
    expect(outcome.settled, 'start() settled while the topic is missing').to.equal(undefined);
    expect(responder.waitingForTopic).to.equal(true);
    expect(responder.ready()).to.equal(false);
    const warns = lines.filter((l) => l.level === WARN && naming(l));
    expect(warns, 'warn lines naming the topic').to.have.length(1);
    expect(warns[0]!.msg).to.contain(topic);
    expect(lines.filter(naming).length).to.be.greaterThan(warns.length);
    expect(lines.filter((l) => l.level >= ERROR).map((l) => l.msg)).to.deep.equal([]);

    await createTopics(stack, [topic], 1);
    const correlationId = unique('waits-cid');
    await publishRequest(kafka, topic, replyTopic, correlationId);
    await starting;
    expect(outcome.settled).to.equal('resolved');
    expect(responder.ready()).to.equal(true);
    expect(responder.waitingForTopic).to.equal(false);
    const reply = await readReply(kafka, replyTopic, correlationId);
    expect(reply).to.deep.equal({ status: 200, body: { echoed: { hello: 'late topic' } } });
    expect(lines.some((l) => l.level === 30 && l.topics?.includes(topic) && /found after/.test(l.msg))).to.equal(true);
  });

  it('is not ready while it waits for its topic, ready once joined, not ready after stop()', async () => {
    const topic = unique('waits.ready');
    const { logger } = capturedLogger();
    const { responder, starting } = start(topic, logger, { allowAutoTopicCreation: false });
    const seen = new Set<boolean>();
    const sampler = setInterval(() => seen.add(responder.ready()), 20);
    try {
      await waitFor(() => responder.waitingForTopic, 15_000, 'the responder to wait for its topic');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await topicExists(kafka, topic), 'request topic exists').to.equal(false);
      expect([...seen]).to.deep.equal([false]);
      await createTopics(stack, [topic], 1);
      await waitFor(() => responder.ready(), 20_000, 'readiness after the topic was created');
      await starting;
    } finally {
      clearInterval(sampler);
    }
    await responder.stop();
    expect(responder.ready()).to.equal(false);
  });

  it('starts on a broker that auto-creates topics, with the default options (no longer dies at start-up)', async () => {
    const topic = unique('waits.auto');
    const replyTopic = unique('waits.auto-replies');
    await createTopics(stack, [replyTopic], 1);
    expect(await topicExists(kafka, topic), 'request topic exists before the responder').to.equal(false);
    const { logger } = capturedLogger();
    const { responder, outcome, starting } = start(topic, logger);
    await starting;
    expect(outcome.settled).to.equal('resolved');
    expect(responder.ready()).to.equal(true);
    const correlationId = unique('waits-auto-cid');
    await publishRequest(kafka, topic, replyTopic, correlationId);
    const reply = await readReply(kafka, replyTopic, correlationId);
    expect(reply.status).to.equal(200);
  });
});
