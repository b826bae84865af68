import { expect } from 'chai';
import { logLevel, type LogEntry } from 'kafkajs';
import pino from 'pino';
import { Writable } from 'node:stream';
import { createKafkaLogCreator } from '../../../src/kafka/kafka-log-creator';

/** A pino logger writing JSON lines into an array. */
function capture(): { log: pino.Logger; lines: { level: number; msg: string; [k: string]: unknown }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

const entry = (level: number, namespace: string, message: string, extra: Record<string, unknown> = {}): LogEntry => ({
  namespace,
  level,
  label: 'ERROR',
  log: { timestamp: new Date().toISOString(), message, ...extra },
});

const WARN = 40;
const flush = () => new Promise((r) => setImmediate(r));

describe('createKafkaLogCreator', () => {
  it('collapses an outage into one warn line and one "reachable again" line with counts', async () => {
    const { log, lines } = capture();
    let up = false;
    let t = 1_000;
    const write = createKafkaLogCreator(log, {
      brokers: ['127.0.0.1:9092'],
      probeIntervalMs: 5,
      probe: async () => up,
      now: () => t,
    })(logLevel.WARN);
    for (let i = 0; i < 200; i++) {
      write(
        entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
          broker: '127.0.0.1:9092',
        }),
      );
      write(
        entry(
          logLevel.WARN,
          'BrokerPool',
          'Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        ),
      );
      write(
        entry(logLevel.ERROR, 'Consumer', 'Crash: KafkaJSNumberOfRetriesExceededError: Connection error', {
          groupId: 'g',
        }),
      );
      write(entry(logLevel.WARN, 'Consumer', 'Restarting the consumer in 5000ms'));
    }
    expect(lines.filter((l) => l.level >= WARN).map((l) => l.msg)).to.deep.equal([
      'kafka broker unreachable (127.0.0.1:9092): Connection error: connect ECONNREFUSED 127.0.0.1:9092; kafkajs retries meanwhile are logged at debug',
    ]);
    t += 12_300;
    up = true;
    await new Promise((r) => setTimeout(r, 30));
    const back = lines.find((l) => l.msg.startsWith('kafka broker reachable again'));
    expect(back?.msg).to.equal('kafka broker reachable again after 800 errors in 12.3 s');
    expect(back).to.include({ broker: '127.0.0.1:9092', errors: 800 });
    // The next outage is reported again.
    write(entry(logLevel.ERROR, 'Connection', 'Connection timeout', { broker: '127.0.0.1:9092' }));
    await flush();
    expect(lines.filter((l) => l.level >= WARN)).to.have.length(2);
  });

  it('keeps one outage per broker', () => {
    const { log, lines } = capture();
    const write = createKafkaLogCreator(log, { brokers: ['a:1', 'b:2'], probe: async () => false })(logLevel.WARN);
    write(entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED a:1', { broker: 'a:1' }));
    write(entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED b:2', { broker: 'b:2' }));
    write(entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED a:1', { broker: 'a:1' }));
    expect(lines.filter((l) => l.level >= WARN).map((l) => l['broker'])).to.deep.equal(['a:1', 'b:2']);
  });

  it('sends retried start-up noise to debug and other warnings through at warn', () => {
    const { log, lines } = capture();
    const write = createKafkaLogCreator(log, { brokers: ['a:1'], probe: async () => true })(logLevel.WARN);
    write(
      entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', {
        error: 'This server does not host this topic-partition',
      }),
    );
    write(
      entry(logLevel.ERROR, 'Connection', 'Response GroupCoordinator(key: 10, version: 2)', {
        error: 'The group coordinator is not available',
      }),
    );
    write(
      entry(logLevel.ERROR, 'Connection', 'Response CreateTopics(key: 19, version: 3)', {
        error: 'Topic with this name already exists',
      }),
    );
    write(entry(logLevel.WARN, 'Producer', 'something new the operator should see'));
    expect(lines.filter((l) => l.level >= WARN).map((l) => l.msg)).to.deep.equal([
      'something new the operator should see',
    ]);
    expect(lines.filter((l) => l.level < WARN)).to.have.length(3);
  });
});
