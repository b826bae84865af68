import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { EventEmitter } from 'node:events';
import type { EachMessagePayload, Kafka, KafkaMessage, ProducerRecord } from 'kafkajs';
import { ConfigError } from '../../../src/errors/startup-errors';
import { createResponder } from '../../../src/responder/create-responder';
import { ResponderError } from '../../../src/errors/responder-error';
import { type RequestHandler } from '../../../src/responder/request-context';
import { type ResponderOptions } from '../../../src/responder/responder-options';
import { requestMessage } from './fake-request';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;

/** Just enough of a kafkajs client to drive a responder without a broker. */
class FakeKafka {
  readonly emitter = new EventEmitter();
  readonly sent: ProducerRecord[] = [];
  readonly calls: string[] = [];
  eachMessage: ((payload: EachMessagePayload) => Promise<void>) | undefined;
  /** What `run()` does after registering eachMessage: join at once by default. */
  onRun: () => void = () => this.emit(EVENTS.GROUP_JOIN, { memberId: 'm-1', memberAssignment: {} });
  sendError: Error | undefined;
  groupId: string | undefined;

  emit(event: string, payload: unknown): void {
    this.emitter.emit(event, { id: 1, type: event, timestamp: Date.now(), payload });
  }

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }

  consumerConfigs: Record<string, unknown>[] = [];

  consumer(config: { groupId: string }) {
    this.groupId = config.groupId;
    this.consumerConfigs.push(config);
    return {
      events: EVENTS,
      on: (event: string, listener: (e: unknown) => void) => {
        this.emitter.on(event, listener);
        return () => this.emitter.off(event, listener);
      },
      connect: async () => void this.calls.push('consumer.connect'),
      subscribe: async (s: unknown) => void this.calls.push(`consumer.subscribe ${JSON.stringify(s)}`),
      run: async (config: { eachMessage: (p: EachMessagePayload) => Promise<void> }) => {
        this.calls.push('consumer.run');
        this.eachMessage = config.eachMessage;
        this.onRun();
      },
      disconnect: async () => void this.calls.push('consumer.disconnect'),
    };
  }

  producerConfigs: Record<string, unknown>[] = [];

  producer(config: Record<string, unknown> = {}) {
    this.producerConfigs.push(config);
    return {
      connect: async () => void this.calls.push('producer.connect'),
      send: async (record: ProducerRecord) => {
        if (this.sendError !== undefined) throw this.sendError;
        this.sent.push(record);
        return [];
      },
      disconnect: async () => void this.calls.push('producer.disconnect'),
    };
  }

  deliver(message: KafkaMessage): Promise<void> {
    if (this.eachMessage === undefined) throw new Error('consumer is not running');
    return this.eachMessage({
      topic: 'req',
      partition: 0,
      message,
      heartbeat: async () => undefined,
      pause: () => () => undefined,
    });
  }
}

function responderOn(fake: FakeKafka, handler: RequestHandler, extra: Partial<ResponderOptions> = {}) {
  return createResponder({ kafka: fake.asKafka(), topic: 'req', groupId: 'g-1', handler, ...extra });
}

describe('createResponder (fake Kafka)', () => {
  it('resolves start() once the group has joined, subscribing from the beginning by default', async () => {
    const fake = new FakeKafka();
    let join: () => void = () => undefined;
    fake.onRun = () => {
      join = () => fake.emit(EVENTS.GROUP_JOIN, { memberId: 'm-1', memberAssignment: {} });
    };
    const responder = responderOn(fake, () => undefined);
    let started = false;
    const starting = responder.start().then(() => (started = true));
    await new Promise((r) => setImmediate(r));
    expect(fake.calls).to.include('consumer.run');
    expect(started).to.equal(false);
    join();
    await starting;
    expect(started).to.equal(true);
    expect(fake.groupId).to.equal('g-1');
    expect(fake.calls).to.include('consumer.subscribe {"topics":["req"],"fromBeginning":true}');
    expect(responder.start()).to.equal(responder.start());
    await responder.stop();
  });

  it('answers a request on its reply topic and counts it', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, async (ctx) => ({ status: 201, body: { got: ctx.json() } }));
    await responder.start();
    await fake.deliver(requestMessage({ correlationId: 'gw.1', replyTo: 'replies', body: { a: 1 } }));
    expect(fake.sent).to.have.length(1);
    const [record] = fake.sent;
    expect(record?.topic).to.equal('replies');
    const message = record?.messages[0];
    expect(message?.key).to.equal(null);
    expect(String(message?.value)).to.equal('{"got":{"a":1}}');
    expect(message?.headers).to.deep.include({ 'rg-correlation-id': 'gw.1', 'rg-status': '201' });
    expect(responder.stats).to.deep.equal({ handled: 1, errors: 0, expired: 0, skipped: 0 });
    await responder.stop();
  });

  it('answers a NestJS requester on the reply partition it named, marked as the last reply', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => ({ body: { ok: true } }));
    await responder.start();
    await fake.deliver(
      requestMessage(
        { correlationId: undefined, replyTo: undefined },
        { kafka_correlationId: 'nest-1', kafka_replyTopic: 'req.reply', kafka_replyPartition: '3' },
      ),
    );
    const message = fake.sent[0]?.messages[0];
    expect(fake.sent[0]?.topic).to.equal('req.reply');
    expect(message?.partition).to.equal(3);
    expect(String(message?.headers?.['kafka_correlationId'])).to.equal('nest-1');
    expect(message?.headers).to.have.property('kafka_nest-is-disposed');
    await responder.stop();
  });

  it('drops expired requests and skips messages that are not requests, without replying', async () => {
    const fake = new FakeKafka();
    let calls = 0;
    const responder = responderOn(fake, () => void calls++);
    await responder.start();
    await fake.deliver(requestMessage({ deadline: Date.now() - 1 }));
    await fake.deliver(requestMessage({ correlationId: undefined }));
    await fake.deliver(requestMessage({ replyTo: undefined }));
    expect(calls).to.equal(0);
    expect(fake.sent).to.have.length(0);
    expect(responder.stats).to.deep.equal({ handled: 0, errors: 0, expired: 1, skipped: 2 });
    await responder.stop();
  });

  it('answers a ResponderError with its status, and other errors with 500, counting only the latter', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, (ctx) => {
      if (ctx.route === 'missing') throw new ResponderError(404, 'no such thing');
      throw new Error('secret internals');
    });
    await responder.start();
    await fake.deliver(requestMessage({ route: 'missing' }));
    await fake.deliver(requestMessage({ route: 'boom' }));
    const replies = fake.sent.map((r) => r.messages[0]);
    expect(replies.map((m) => m?.headers?.['rg-status'])).to.deep.equal(['404', '500']);
    expect(String(replies[1]?.value)).to.equal('{"error":"SERVICE_ERROR","message":"internal error"}');
    expect(responder.stats).to.deep.equal({ handled: 2, errors: 1, expired: 0, skipped: 0 });
    await responder.stop();
  });

  it('answers 500 when the reply cannot be encoded', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => ({ status: 42 }));
    await responder.start();
    await fake.deliver(requestMessage({}));
    expect(fake.sent[0]?.messages[0]?.headers?.['rg-status']).to.equal('500');
    expect(responder.stats.errors).to.equal(1);
    await responder.stop();
  });

  it('rethrows a failed send so the offset is not committed', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => ({ body: 'ok' }));
    await responder.start();
    fake.sendError = new Error('broker gone');
    let thrown: unknown;
    await fake.deliver(requestMessage({})).catch((err: unknown) => (thrown = err));
    expect(thrown).to.equal(fake.sendError);
    expect(responder.stats.handled).to.equal(0);
    await responder.stop();
  });

  it('names the reply topic and WRITE when the broker refuses the reply for want of an ACL, once a while, and still rethrows', async () => {
    const fake = new FakeKafka();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const responder = responderOn(fake, () => ({ body: 'ok' }), { logger: pino({ level: 'debug' }, sink) });
    await responder.start();
    fake.sendError = Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), {
      name: 'KafkaJSProtocolError',
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    for (let i = 0; i < 3; i++) {
      const thrown = await fake.deliver(requestMessage({})).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(thrown).to.equal(fake.sendError);
    }
    const errors = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 50);
    expect(errors).to.have.length(1);
    expect(errors[0]!.msg).to.contain('WRITE').and.to.contain('TOPIC_AUTHORIZATION_FAILED');
    await responder.stop();
  });

  it('rebuilds the consumer after a crash kafkajs gives up on, and start() resolves once it joined', async () => {
    const fake = new FakeKafka();
    let runs = 0;
    fake.onRun = () => {
      runs++;
      if (runs === 1) fake.emit(EVENTS.CRASH, { error: new Error('coordinator gone'), groupId: 'g-1', restart: false });
      else fake.emit(EVENTS.GROUP_JOIN, { memberId: 'm-2', memberAssignment: {} });
    };
    const responder = responderOn(fake, () => ({ body: 'ok' }));
    await responder.start();
    expect(runs).to.equal(2);
    expect(fake.calls.filter((c) => c === 'consumer.connect')).to.have.length(2);
    await fake.deliver(requestMessage({}));
    expect(responder.stats.handled).to.equal(1);
    await responder.stop();
  });

  it('keeps rebuilding after crashes once running (a broker flap never ends the service)', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => ({ body: 'ok' }));
    await responder.start();
    let runs = 0;
    fake.onRun = () => {
      runs++;
      if (runs < 3) fake.emit(EVENTS.CRASH, { error: new Error('coordinator gone'), groupId: 'g-1', restart: false });
      else fake.emit(EVENTS.GROUP_JOIN, { memberId: 'm-3', memberAssignment: {} });
    };
    fake.emit(EVENTS.CRASH, { error: new Error('coordinator gone'), groupId: 'g-1', restart: false });
    const deadline = Date.now() + 5000;
    while (runs < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(runs).to.equal(3);
    await fake.deliver(requestMessage({}));
    expect(responder.stats.handled).to.equal(1);
    await responder.stop();
  });

  it('logs one error line per outage however often the consumer crashes in it, then how it recovered', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => ({ body: 'ok' }), { logger });
    await responder.start();
    let runs = 0;
    fake.onRun = () => {
      runs++;
      if (runs < 4) fake.emit(EVENTS.CRASH, { error: new Error('coordinator gone'), groupId: 'g-1', restart: false });
      else fake.emit(EVENTS.GROUP_JOIN, { memberId: 'm-4', memberAssignment: {} });
    };
    fake.emit(EVENTS.CRASH, { error: new Error('coordinator gone'), groupId: 'g-1', restart: false });
    const deadline = Date.now() + 10_000;
    while (runs < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(runs).to.equal(4);
    const crashLines = lines.filter((l) => l.msg.includes('consumer crashed'));
    expect(crashLines, 'four crashes').to.have.length(4);
    expect(
      crashLines.filter((l) => l.level >= 50),
      'error lines',
    ).to.have.length(1);
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).to.deep.equal([crashLines[0]!.msg]);
    expect(lines.filter((l) => l.level === 30).map((l) => l.msg)).to.include(
      'responder consumer rebuilt after 4 attempt(s); joining',
    );
    await responder.stop();
  });

  it('keeps waiting through a crash kafkajs restarts from', async () => {
    const fake = new FakeKafka();
    fake.onRun = () => {
      fake.emit(EVENTS.CRASH, { error: new Error('coordinator moved'), groupId: 'g-1', restart: true });
      setImmediate(() => fake.emit(EVENTS.GROUP_JOIN, { memberId: 'm-2', memberAssignment: {} }));
    };
    const responder = responderOn(fake, () => undefined);
    await responder.start();
    await responder.stop();
  });

  it('rejects start() naming joinTimeoutMs when the group never joins', async () => {
    const fake = new FakeKafka();
    fake.onRun = () => undefined;
    const responder = responderOn(fake, () => undefined, { joinTimeoutMs: 20 });
    let thrown: unknown;
    await responder.start().catch((err: unknown) => (thrown = err));
    expect(String(thrown)).to.contain('joinTimeoutMs');
  });

  it('rejects a pending start() when stopped, and cannot start again', async () => {
    const fake = new FakeKafka();
    fake.onRun = () => undefined;
    const responder = responderOn(fake, () => undefined);
    const starting = responder.start();
    await new Promise((r) => setImmediate(r));
    await responder.stop();
    let thrown: unknown;
    await starting.catch((err: unknown) => (thrown = err));
    expect(String(thrown)).to.contain('stopped');
    expect(fake.calls.filter((c) => c === 'consumer.disconnect')).to.have.length(1);
    let again: unknown;
    await responder.start().catch((err: unknown) => (again = err));
    expect(again).to.be.instanceOf(Error);
  });

  it('disconnects the consumer before the producer, once', async () => {
    const fake = new FakeKafka();
    const responder = responderOn(fake, () => undefined);
    await responder.start();
    await Promise.all([responder.stop(), responder.stop()]);
    const order = fake.calls.filter((c) => c.endsWith('disconnect'));
    expect(order).to.deep.equal(['consumer.disconnect', 'producer.disconnect']);
  });

  it('joins with a 10 s session and 1 s heartbeats by default, and with the sessionTimeoutMs given', async () => {
    const configOf = async (extra: Partial<ResponderOptions>) => {
      const fake = new FakeKafka();
      const responder = responderOn(fake, () => undefined, extra);
      const starting = responder.start().catch(() => undefined);
      await new Promise((r) => setImmediate(r));
      await responder.stop();
      await starting;
      return fake.consumerConfigs[0];
    };
    expect(await configOf({})).to.include({ sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    expect(await configOf({ sessionTimeoutMs: 6_000 })).to.include({ sessionTimeout: 6_000, heartbeatInterval: 600 });
    // A reply caught in a leader move is resent within 500 ms steps, not the client's growing 3 s.
    const fake = new FakeKafka();
    responderOn(fake, () => undefined);
    expect(fake.producerConfigs[0]).to.have.nested.property('retry.maxRetryTime', 500);
    expect(() => responderOn(new FakeKafka(), () => undefined, { sessionTimeoutMs: 0 }))
      .to.throw(ConfigError)
      .with.property('issues')
      .that.deep.equals(['sessionTimeoutMs: integer ≥ 1']);
  });

  it('names the bad options', () => {
    const bad = () =>
      createResponder({
        topic: '',
        groupId: '',
        handler: undefined as unknown as RequestHandler,
        partitionsConsumedConcurrently: 0,
      });
    expect(bad).to.throw(ConfigError).with.property('issues').that.has.length(5);
    expect(bad).to.throw(/brokers/);
  });
});
