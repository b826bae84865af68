import { connect } from 'node:net';
import { CONFIG_SOURCES } from '../config/config-sources';
import { StartupError, describeNetworkError } from '../errors/startup-errors';

/** One TCP connection attempt to `host:port`; resolves with `undefined` or the error. */
export function tryConnect(broker: string, timeoutMs: number): Promise<unknown> {
  const colon = broker.lastIndexOf(':');
  const host = broker.slice(0, colon);
  const port = Number(broker.slice(colon + 1));
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (err?: unknown): void => {
      socket.destroy();
      resolve(err);
    };
    socket.setTimeout(timeoutMs, () => done(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err));
  });
}

/**
 * Before kafkajs gets the brokers: can a TCP connection to at least one of them be opened within
 * `withinMs`? kafkajs alone retries for many seconds, logging a line per attempt, and then names
 * neither the setting nor more than one address. Fails with a {@link StartupError} such as
 * `KAFKA_BROKERS (--kafka-brokers) 127.0.0.1:1: connection refused`. Only reachability: a broker
 * that accepts connections but misbehaves is kafkajs' to report.
 */
export async function assertKafkaReachable(brokers: readonly string[], withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  const last = new Map<string, unknown>();
  for (;;) {
    const left = deadline - Date.now();
    const results = await Promise.all(brokers.map((b) => tryConnect(b, Math.max(250, Math.min(left, 2000)))));
    if (results.some((err) => err === undefined)) return;
    brokers.forEach((b, i) => last.set(b, results[i]));
    // A broker still starting (compose up, a rolling restart) gets the rest of the window.
    if (Date.now() + 500 >= deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const problems = [...last].map(([b, err]) => `${b} ${describeNetworkError(err)}`);
  const single = brokers.length === 1;
  throw new StartupError(
    [CONFIG_SOURCES.kafkaBrokers],
    single ? brokers[0]! : brokers.join(','),
    `${single ? describeNetworkError(last.get(brokers[0]!)) : `no broker reachable (${problems.join('; ')})`} (tried for ${withinMs} ms)`,
    { cause: last.get(brokers[0]!), retriable: true },
  );
}
