import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Kafka } from 'kafkajs';
import { pino, type Logger } from 'pino';
import { SupervisedConsumer } from '../../../src/kafka/supervised-consumer';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as const;

/** kafkajs' error for a subscription to a topic the broker does not have (retriable, yet not retried). */
function missingTopic(): Error {
  return Object.assign(new Error('This server does not host this topic-partition'), {
    name: 'KafkaJSProtocolError',
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
    retriable: true,
  });
}

/** A kafkajs client whose consumers fail `subscribe` with what `subscribeError` returns, then join. */
class FakeKafka {
  readonly emitter = new EventEmitter();
  subscribes = 0;
  subscribeError: (attempt: number) => Error | undefined = () => undefined;
  runs = 0;
  /** A crash the consumer reports after its `run()` number `attempt` (instead of joining). */
  runError: (attempt: number) => Error | undefined = () => undefined;

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }

  consumer() {
    return {
      events: EVENTS,
      on: (event: string, listener: (e: unknown) => void) => {
        this.emitter.on(event, listener);
        return () => this.emitter.off(event, listener);
      },
      connect: async () => undefined,
      subscribe: async () => {
        const err = this.subscribeError(++this.subscribes);
        if (err !== undefined) throw err;
      },
      run: async () => {
        const err = this.runError(++this.runs);
        if (err !== undefined) {
          setImmediate(() => this.emitter.emit(EVENTS.CRASH, { payload: { error: err, restart: false } }));
          return;
        }
        this.emitter.emit(EVENTS.GROUP_JOIN, { payload: { memberId: 'm', memberAssignment: {} } });
      },
      disconnect: async () => undefined,
    };
  }
}

function captured(): { log: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const t of chunk.toString('utf8').split('\n')) if (t !== '') lines.push(JSON.parse(t) as never);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

function supervise(fake: FakeKafka, log: Logger, waiting: (readonly string[])[] = []) {
  return new SupervisedConsumer({
    kafka: fake.asKafka(),
    name: 'responder',
    consumerConfig: { groupId: 'g' },
    subscription: { topics: ['orders.requests'] },
    runConfig: () => ({ eachMessage: async () => undefined }),
    log,
    initialBackoffMs: 1,
    maxBackoffMs: 2,
    onWaitingForTopics: (topics) => waiting.push(topics),
  });
}

describe('SupervisedConsumer start-up', () => {
  it('waits for a missing topic: one warn line naming it, again only after 30 s, then joins', async () => {
    const fake = new FakeKafka();
    // Eight looks for the topic, each 10 s apart on the clock; the ninth finds it.
    const realNow = Date.now;
    let clock = realNow();
    fake.subscribeError = (attempt) => {
      if (attempt > 1) clock += 10_000;
      return attempt <= 8 ? missingTopic() : undefined;
    };
    const { log, lines } = captured();
    const waiting: (readonly string[])[] = [];
    let restarts = -1;
    Date.now = () => clock;
    try {
      const supervised = supervise(fake, log, waiting);
      await supervised.start();
      expect(supervised.joined).to.equal(true);
      expect(supervised.waitingForTopics).to.deep.equal([]);
      // What the rebuild does once its launch returned comes after start() resolved.
      await new Promise((r) => setTimeout(r, 20));
      restarts = supervised.restarts;
    } finally {
      Date.now = realNow;
    }
    const about = lines.filter((l) => /orders\.requests does not exist/.test(l.msg));
    expect(about).to.have.length(8);
    // Looks at 0, 10, ..., 70 s: warned at 0, 30 and 60 s, the others at debug.
    expect(about.map((l) => l.level)).to.deep.equal([40, 20, 20, 40, 20, 20, 40, 20]);
    expect(lines.filter((l) => l.level >= 50)).to.deep.equal([]);
    expect(lines.some((l) => l.level === 30 && /orders\.requests found after 80000 ms/.test(l.msg))).to.equal(true);
    expect(waiting).to.deep.equal([['orders.requests'], []]);
    // Waiting for the topic was the start, not an outage: no restart line, no restart counted.
    expect(lines.filter((l) => /rebuilt/.test(l.msg))).to.deep.equal([]);
    expect(restarts).to.equal(0);
  });

  it('recovers from another retriable error at start-up instead of rejecting', async () => {
    const fake = new FakeKafka();
    fake.subscribeError = (attempt) =>
      attempt === 1
        ? Object.assign(new Error('The coordinator is loading'), {
            type: 'COORDINATOR_LOAD_IN_PROGRESS',
            retriable: true,
          })
        : undefined;
    const supervised = supervise(fake, captured().log);
    await supervised.start();
    expect(supervised.joined).to.equal(true);
    expect(fake.subscribes).to.equal(2);
  });

  it('still rejects at once for an error kafkajs does not retry (a refused ACL)', async () => {
    const fake = new FakeKafka();
    fake.subscribeError = () =>
      Object.assign(new Error('Not authorized to access topics: [Topic authorization failed]'), {
        type: 'TOPIC_AUTHORIZATION_FAILED',
        retriable: false,
      });
    const supervised = supervise(fake, captured().log);
    let thrown: unknown;
    await supervised.start().catch((err: unknown) => (thrown = err));
    expect(String(thrown)).to.contain('Not authorized');
    expect(fake.subscribes).to.equal(1);
  });

  it('says a start-up refusal of a broker still loading its coordinator at info, not as a crash; a later crash is an error', async () => {
    const fake = new FakeKafka();
    const loading = (): Error =>
      Object.assign(new Error("The coordinator is loading and hence can't process requests for this group"), {
        name: 'KafkaJSProtocolError',
        type: 'COORDINATOR_LOAD_IN_PROGRESS',
        retriable: true,
      });
    fake.runError = (attempt) => (attempt <= 3 ? loading() : undefined);
    const { log, lines } = captured();
    const consumer = supervise(fake, log);
    await consumer.start();
    expect(fake.runs).to.equal(4);
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).to.deep.equal([]);
    const noted = lines.filter((l) => l.level === 30 && l.msg.includes('could not join its group yet'));
    expect(noted, 'one info line for the start-up refusals').to.have.length(1);
    // Once it has joined, the same refusal is an outage: one error line.
    fake.emitter.emit(EVENTS.CRASH, { payload: { error: loading(), restart: false } });
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).to.deep.equal([
      'responder consumer crashed; it is rebuilt with backoff',
    ]);
    await consumer.stop();
  });
});
