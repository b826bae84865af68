import { logLevel as KafkaLogLevel, type LogEntry, type logCreator } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { tryConnect } from './kafka-reachable';

// kafkajs logs protocol errors it retries (coordinator not available, topic already exists) at
// ERROR; our components log real failures themselves, so kafkajs' own lines are capped at warn.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [KafkaLogLevel.ERROR]: 'warn',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/**
 * Transient protocol errors kafkajs retries by itself, seen on every start (a topic just created
 * has no leader yet, the group coordinator is still loading) and during rebalances. Logged at
 * debug: at warn they teach operators to ignore warnings.
 */
const RETRIED_NOISE =
  /does not host this topic-partition|no leader for this topic-partition|leadership election|coordinator is not available|coordinator is loading|not the correct coordinator|Topic with this name already exists|group is rebalancing|not aware of this member|switched default partitioner/i;

/** A line that says a broker could not be reached (or a request to it died with the connection). */
const CONNECTION_TROUBLE =
  /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|Connection error|Connection timeout|Closed connection|connection closed|socket hang up|Failed to connect|KafkaJSConnection|Request .* timed out/i;

const ADDRESS = /\b([A-Za-z0-9.-]+:\d{2,5})\b/;

/** Options of {@link createKafkaLogCreator}. */
export interface KafkaLogCreatorOptions {
  /** The seed brokers: probed when a failing line names no broker. */
  brokers: readonly string[];
  /** How often an unreachable broker is probed (TCP) to notice it is back. @defaultValue 1000 */
  probeIntervalMs?: number;
  /** The probe; resolves true when a connection opens. @defaultValue a TCP connect */
  probe?: (broker: string) => Promise<boolean>;
  /** Clock, for tests. @defaultValue Date.now */
  now?: () => number;
}

interface Outage {
  since: number;
  errors: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A kafkajs `logCreator` that writes through pino (child `lib: kafkajs`) and keeps the log
 * readable while Kafka is away: the first connection error for a broker logs one
 * `kafka broker unreachable` warn line; every further kafkajs warning meanwhile (retries, crashes,
 * reconnects, hundreds a minute) is counted and logged at debug only; once a TCP connection to the
 * broker opens again, one `kafka broker reachable again after N errors in T s` info line.
 * Transient protocol errors kafkajs retries itself (see RETRIED_NOISE) go to debug.
 *
 * @example
 * new Kafka({ brokers, logCreator: createKafkaLogCreator(log, { brokers }) });
 */
export function createKafkaLogCreator(log: Logger, options: KafkaLogCreatorOptions): logCreator {
  const kafkaLog = log.child({ lib: 'kafkajs' });
  const now = options.now ?? Date.now;
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  const probe = options.probe ?? (async (broker: string) => (await tryConnect(broker, 1000)) === undefined);
  const outages = new Map<string, Outage>();

  const watchForRecovery = (broker: string, outage: Outage): void => {
    const targets = ADDRESS.test(broker) ? [broker] : [...options.brokers];
    outage.timer = setTimeout(() => {
      void Promise.all(targets.map((b) => probe(b).catch(() => false))).then((results) => {
        if (outages.get(broker) !== outage) return;
        if (!results.some(Boolean)) return watchForRecovery(broker, outage);
        outages.delete(broker);
        const downForS = Math.round((now() - outage.since) / 100) / 10;
        kafkaLog.info(
          { broker, errors: outage.errors, downForS },
          `kafka broker reachable again after ${outage.errors} errors in ${downForS} s`,
        );
      });
    }, probeIntervalMs);
    outage.timer.unref();
  };

  return () =>
    ({ level, namespace, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const text = `${message} ${typeof rest['error'] === 'string' ? rest['error'] : ''}`;
      const pinoLevel = LEVELS[level] ?? 'info';
      if (pinoLevel === 'warn' && CONNECTION_TROUBLE.test(text)) {
        const named = typeof rest['broker'] === 'string' ? rest['broker'] : ADDRESS.exec(text)?.[1];
        // A line naming no broker (a consumer crash) during a known outage belongs to that outage.
        const broker = named ?? (outages.size > 0 ? undefined : 'cluster');
        if (broker === undefined) {
          for (const o of outages.values()) o.errors++;
          kafkaLog.debug({ namespace, ...rest }, message);
          return;
        }
        const outage = outages.get(broker);
        if (outage === undefined) {
          const started: Outage = { since: now(), errors: 1, timer: undefined };
          outages.set(broker, started);
          kafkaLog.warn(
            { broker, namespace, error: message },
            `kafka broker unreachable (${broker}): ${message}; kafkajs retries meanwhile are logged at debug`,
          );
          watchForRecovery(broker, started);
          return;
        }
        outage.errors++;
        kafkaLog.debug({ namespace, ...rest }, message);
        return;
      }
      if (pinoLevel === 'warn' && (outages.size > 0 || RETRIED_NOISE.test(text))) {
        // During an outage every other kafkajs complaint (consumer crash, restarts, rejoins) is
        // its consequence; the outage line already said what an operator must know.
        for (const outage of outages.values()) outage.errors++;
        kafkaLog.debug({ namespace, ...rest }, message);
        return;
      }
      kafkaLog[pinoLevel]({ namespace, ...rest }, message);
    };
}
