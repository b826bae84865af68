import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createLogger } from '../../src/observability/logger';
import { decodeReplyMessage } from '../../src/relay/reply-decoder';
import { ensureTopic } from '../../src/kafka/ensure-topic';
import { createKafka, loadKafkaConnection } from '../../src/kafka/kafka-client';
import { KafkaRequestPublisher } from '../../src/kafka/kafka-request-publisher';
import type { OutgoingRequest } from '../../src/protocol/outgoing-request';
import { LOOP_LAG_RESOLUTION_MS } from '../harness/loop-lag';
import { runOpenLoop } from '../load/open-loop';
import { payload } from '../load/payload';

/**
 * The floor: the Kafka legs of a request-reply gateway and nothing else. One process publishes a
 * request with the gateway's own publisher and message format, the echo responder answers, and
 * the same process consumes the reply topic with the relay's consumer settings and decodes the
 * reply as the relay does. No HTTP, no Redis. Commands arrive as JSON lines on stdin, results
 * leave as JSON lines on stdout:
 *   {"cmd":"closed","concurrency":64,"durationMs":5000,"payloadBytes":100}
 *   {"cmd":"open","rate":300,"durationMs":10000,"payloadBytes":100}
 *   {"cmd":"park","count":10000,"topic":"…"}       (requests nobody answers; reports RSS growth)
 * Env: KAFKA_BROKERS, FLOOR_REQUEST_TOPIC, FLOOR_REPLY_TOPIC, FLOOR_PARTITIONS, and the gateway's
 * REPLYGATE_PRODUCER_BATCHING / _LINGER_MS / _MAX_IN_FLIGHT.
 */
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
const requestTopic = process.env['FLOOR_REQUEST_TOPIC'] ?? '';
const replyTopic = process.env['FLOOR_REPLY_TOPIC'] ?? '';
const partitions = Number(process.env['FLOOR_PARTITIONS'] ?? '4');
const log = createLogger('warn');
const kafka = createKafka(brokers, `floor-${process.pid}`, log, loadKafkaConnection(process.env));
// The gateway's producer settings, read from the gateway's own variables (defaults as in the gateway).
const publisher = new KafkaRequestPublisher(kafka, log, {
  mode: process.env['REPLYGATE_PRODUCER_BATCHING'] === 'off' ? 'off' : 'adaptive',
  lingerMs: Number(process.env['REPLYGATE_PRODUCER_LINGER_MS'] ?? '0'),
  maxInFlight: Number(process.env['REPLYGATE_PRODUCER_MAX_IN_FLIGHT'] ?? '2'),
});
const consumer = kafka.consumer({ groupId: `floor-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 250 });
const waiting = new Map<string, (ok: boolean) => void>();
const parked: string[] = [];
const instance = 'floor';

function request(topic: string, body: Buffer, timeoutMs: number): OutgoingRequest {
  return {
    topic,
    dialect: 'replygate',
    correlationId: `${instance}.${randomBytes(16).toString('base64url')}`,
    replyTopic,
    deadline: Date.now() + timeoutMs,
    route: 'POST /echo',
    method: 'POST',
    path: '/echo',
    params: {},
    query: {},
    headers: {},
    contentType: 'application/json',
    body,
    key: undefined,
  };
}

function exchange(body: Buffer): Promise<boolean> {
  const r = request(requestTopic, body, 30_000);
  return new Promise<boolean>((resolve) => {
    waiting.set(r.correlationId, resolve);
    publisher.publish(r).catch(() => {
      waiting.delete(r.correlationId);
      resolve(false);
    });
  });
}

async function closed(concurrency: number, durationMs: number, body: Buffer): Promise<unknown> {
  let count = 0;
  let errors = 0;
  const start = Date.now();
  const end = start + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        if (await exchange(body)) count++;
        else errors++;
      }
    }),
  );
  const elapsed = Date.now() - start;
  return { requests: count, errors, elapsedMs: elapsed, rps: (count / elapsed) * 1000 };
}

function rssBytes(): number {
  return process.memoryUsage.rss();
}

async function park(count: number, topic: string): Promise<unknown> {
  const before = rssBytes();
  const body = Buffer.from('{"park":true}');
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const r = request(topic, body, 600_000);
    parked.push(r.correlationId);
    waiting.set(r.correlationId, () => undefined);
    sends.push(publisher.publish(r));
    if (sends.length >= 500) await Promise.all(sends.splice(0));
  }
  await Promise.all(sends);
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssBytes();
  for (const id of parked.splice(0)) waiting.delete(id);
  return { parked: count, rssBeforeBytes: before, rssAfterBytes: after };
}

async function main(): Promise<void> {
  await ensureTopic(kafka, replyTopic, partitions, log);
  await publisher.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: replyTopic, fromBeginning: false });
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, () => {
      off();
      resolve();
    });
  });
  await consumer.run({
    // No commits at all (a fresh group each run): the floor pays nothing the relay's periodic,
    // off-path commit would cost. kafkajs' autoCommit would commit after every batch.
    autoCommit: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        // Decode exactly as the relay does (envelope encoding included), then wake the waiter.
        const decoded = decodeReplyMessage(message, batch.topic, batch.partition, 4 * 1024 * 1024);
        if (!decoded.ok) continue;
        const done = waiting.get(decoded.write.correlationId);
        if (done !== undefined) {
          waiting.delete(decoded.write.correlationId);
          done(true);
        }
      }
    },
  });
  await joined;
  process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as {
      cmd: string;
      concurrency?: number;
      durationMs?: number;
      payloadBytes?: number;
      rate?: number;
      count?: number;
      topic?: string;
    };
    const body = payload(cmd.payloadBytes ?? 100);
    let result: unknown;
    if (cmd.cmd === 'closed') result = await closed(cmd.concurrency ?? 1, cmd.durationMs ?? 1000, body);
    else if (cmd.cmd === 'open') {
      // The floor's own event-loop delay over the window, as the gateways report theirs.
      const lag = monitorEventLoopDelay({ resolution: LOOP_LAG_RESOLUTION_MS });
      lag.enable();
      const latency = await runOpenLoop(() => exchange(body), cmd.rate ?? 100, cmd.durationMs ?? 1000);
      lag.disable();
      const excess = (ns: number): number => Math.max(0, ns / 1e6 - LOOP_LAG_RESOLUTION_MS);
      result = { ...latency, loopLag: { p99Ms: excess(lag.percentile(99)), maxMs: excess(lag.max) } };
    } else if (cmd.cmd === 'park') result = await park(cmd.count ?? 10_000, cmd.topic ?? '');
    else if (cmd.cmd === 'exit') break;
    process.stdout.write(`${JSON.stringify({ event: 'result', result })}\n`);
  }
  await consumer.disconnect();
  await publisher.disconnect();
  process.exit(0);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`floor-client: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
