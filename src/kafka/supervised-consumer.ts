import type { Consumer, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';
import { installGroupRecovery } from './group-recovery';

/**
 * How old the consumer's partition metadata may get (kafkajs `metadataMaxAge`, 300000 by
 * default) unless `consumerConfig` says otherwise. kafkajs refreshes it on a few fetch errors but
 * not on a refused connection: after a broker dies, its consumers keep fetching from it until the
 * metadata ages out, and every fetcher of the consumer stalls meanwhile (one failing fetcher
 * restarts them all, with backoff). Short, a consumer finds the new leaders soon after the
 * controller fences the dead broker (`broker.session.timeout.ms`); the cost is one metadata
 * request per interval while fetching.
 */
export const CONSUMER_METADATA_MAX_AGE_MS = 2000;

/**
 * How the consumers retry a fetch, a heartbeat or a join that failed, unless `consumerConfig.retry`
 * says otherwise: kafkajs restarts all of a consumer's fetchers after any one fails, waiting its
 * retry backoff, so the backoff's cap is how long every partition stalls after a leader moves or
 * a broker restarts (kafkajs' default doubles to 30 s). Capped at 500 ms; 30 attempts (~14 s)
 * before the consumer crashes and is rebuilt.
 */
export const CONSUMER_RETRY = { initialRetryTime: 100, maxRetryTime: 500, retries: 30 } as const;

/** The heartbeat interval for a group session: a tenth of it, within [100, 1000] ms (kafkajs' 3000 suits its 30 s). */
export function heartbeatIntervalFor(sessionTimeoutMs: number): number {
  return Math.max(100, Math.min(1_000, Math.floor(sessionTimeoutMs / 10)));
}

/** Settings of a {@link SupervisedConsumer}. */
export interface SupervisedConsumerOptions {
  kafka: Kafka;
  /** Component name for logs and metrics, e.g. `relay` or `responder`. */
  name: string;
  /** Passed to `kafka.consumer()` for every consumer built (the first and each rebuild). */
  consumerConfig: ConsumerConfig;
  subscription: ConsumerSubscribeTopics;
  /** The `run()` settings for a consumer just built (handlers may need that very consumer). */
  runConfig: (consumer: Consumer) => ConsumerRunConfig;
  /** Attach event listeners to each consumer built, before it connects. */
  setup?: (consumer: Consumer) => void;
  log: Logger;
  /** First delay before a rebuild, doubled per consecutive failure (with jitter). @defaultValue 250 */
  initialBackoffMs?: number;
  /** Longest delay between rebuilds. @defaultValue 10000 */
  maxBackoffMs?: number;
  /** Called after each successful rebuild (a metric). */
  onRestart?: () => void;
  /** Called whenever the consumer's group membership goes up or down (a gauge). */
  onStateChange?: (up: boolean) => void;
  /**
   * Called when subscribing found a topic of the subscription missing (with those topics) and when
   * it later succeeded (with none).
   */
  onWaitingForTopics?: (topics: readonly string[]) => void;
}

/**
 * Before the first join, how long retriable refusals (a broker still loading its group
 * coordinator) are said at info before the crash is an error.
 */
const STARTUP_GRACE_MS = 60_000;

/** While a subscribed topic is missing: the longest wait between two looks for it. */
const TOPIC_WAIT_POLL_MS = 2_000;
/** While a subscribed topic is missing: at most one warn line per this long. */
const TOPIC_WAIT_LOG_EVERY_MS = 30_000;

/**
 * A kafkajs consumer that rebuilds itself after any crash. kafkajs restarts a crashed consumer only
 * for errors it deems retriable; after others ("Failed to find group coordinator" during a broker
 * flap) it disconnects and stays stopped for good, and a process whose only handles were that
 * consumer's sockets simply exits. Here every crash — kafkajs' own restarts are switched off, so
 * there is one path — disconnects the consumer, waits a capped, jittered, doubling backoff, builds a
 * new consumer, subscribes and runs it again, for as long as it takes. {@link downForMs} tells how
 * long it has been out of its group, so a caller can fail its liveness after a bound.
 *
 * @example
 * const supervised = new SupervisedConsumer({ kafka, name: 'relay', consumerConfig: { groupId },
 *   subscription: { topics: [topic] }, runConfig: () => ({ eachBatch }), log });
 * await supervised.start(); // resolves once the group has been joined
 */
export class SupervisedConsumer {
  private current: Consumer;
  private up = false;
  /** The current outage's first crash was logged (at error); later ones go to debug. */
  private crashLogged = false;
  /** A start-up refusal was said at info (the first join has not happened yet). */
  private startupNoted = false;
  /** When the membership was lost (or start began); undefined while joined. */
  private downSince: number | undefined;
  private consecutiveFailures = 0;
  private restartCount = 0;
  /** The group was joined at least once: a rebuild before that is the start still under way. */
  private joinedOnce = false;
  private recovering = false;
  /** The current consumer crashed while a rebuild was launching it: go round again. */
  private crashedDuringLaunch = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private firstJoin: { promise: Promise<void>; resolve: () => void };
  /** Set while subscribing fails because a topic of the subscription does not exist (yet). */
  private topicWait: { since: number; loggedAt: number } | undefined;

  constructor(private readonly options: SupervisedConsumerOptions) {
    // A moved partition leader or group coordinator costs no rebalance (rolling broker restarts).
    installGroupRecovery(options.log);
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstJoin = { promise, resolve };
    this.current = this.build();
  }

  /** The consumer in use now; replaced by each rebuild. */
  get consumer(): Consumer {
    return this.current;
  }

  /** True while the consumer is a member of its group (joined, not crashed). */
  get joined(): boolean {
    return this.up;
  }

  /** How long the consumer has been out of its group (0 while joined, and before {@link start}). */
  get downForMs(): number {
    return this.downSince === undefined ? 0 : Date.now() - this.downSince;
  }

  /** The subscription's topics while subscribing fails for a missing topic; empty otherwise. */
  get waitingForTopics(): readonly string[] {
    return this.topicWait === undefined ? [] : this.topicNames();
  }

  /** Rebuilds that succeeded since start. */
  get restarts(): number {
    return this.restartCount;
  }

  /**
   * Connect, subscribe and run; resolves once the group has been joined. An error kafkajs does not
   * retry (an unreachable broker after its retries, a refused credential or ACL) rejects: start-up
   * fails fast and names the cause. A retriable one — a subscribed topic that does not exist yet,
   * a coordinator still loading — takes the same path as a crash after `run()`: rebuilt with
   * backoff, and the promise waits for the join that follows.
   */
  async start(): Promise<void> {
    this.downSince = Date.now();
    try {
      await this.launch(this.current);
    } catch (err) {
      if (!isRetriable(err) || this.stopped) {
        await this.current.disconnect().catch(() => undefined);
        throw err;
      }
      if (!this.launchFailed(err)) this.crashed(err as Error);
      else void this.recover();
    }
    await this.firstJoin.promise;
  }

  /** Stop rebuilding and disconnect the consumer (after the batch in hand). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.firstJoin.resolve();
    await this.current.disconnect();
  }

  private build(): Consumer {
    const { kafka, consumerConfig, setup } = this.options;
    const consumer = kafka.consumer({
      metadataMaxAge: CONSUMER_METADATA_MAX_AGE_MS,
      ...consumerConfig,
      // Every crash comes to crashed() with restart: false; this class restarts, with backoff.
      retry: { ...CONSUMER_RETRY, ...consumerConfig.retry, restartOnFailure: () => Promise.resolve(false) },
    });
    setup?.(consumer);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumer !== this.current) return;
      this.consecutiveFailures = 0;
      this.crashLogged = false;
      this.downSince = undefined;
      this.setUp(true);
      this.joinedOnce = true;
      this.firstJoin.resolve();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (consumer !== this.current) return;
      this.crashed(payload.error);
    });
    return consumer;
  }

  private async launch(consumer: Consumer): Promise<void> {
    await consumer.connect();
    await consumer.subscribe(this.options.subscription);
    if (this.topicWait !== undefined) {
      const waitedMs = Date.now() - this.topicWait.since;
      this.topicWait = undefined;
      this.options.log.info(
        { component: this.options.name, topics: this.topicNames(), waitedMs },
        `${this.options.name}: topic ${this.topicNames().join(', ')} found after ${waitedMs} ms; joining`,
      );
      this.options.onWaitingForTopics?.([]);
    }
    await consumer.run(this.options.runConfig(consumer));
  }

  /**
   * A launch failed. A missing topic is said at warn once, then at most every 30 s while it stays
   * missing (each look in between at debug); returns whether that was the cause.
   */
  private launchFailed(err: unknown): boolean {
    if (!isMissingTopic(err)) return false;
    const now = Date.now();
    const first = this.topicWait === undefined;
    this.topicWait ??= { since: now, loggedAt: 0 };
    const topics = this.topicNames();
    const waitedMs = now - this.topicWait.since;
    const due = now - this.topicWait.loggedAt >= TOPIC_WAIT_LOG_EVERY_MS;
    if (due) this.topicWait.loggedAt = now;
    this.options.log[due ? 'warn' : 'debug'](
      { component: this.options.name, topics, waitedMs },
      `${this.options.name}: topic ${topics.join(', ')} does not exist; waiting for it to be created`,
    );
    if (first) this.options.onWaitingForTopics?.(topics);
    return true;
  }

  private topicNames(): string[] {
    return this.options.subscription.topics.map(String);
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.options.onStateChange?.(up);
  }

  private crashed(err: Error): void {
    // One error line per outage (a state change); the crashes and attempts of a long outage go to
    // debug, and the recovery says how many there were.
    this.downSince ??= Date.now();
    this.setUp(false);
    if (this.stopped) return;
    // Before the first join, a retriable refusal is the broker still starting (the group
    // coordinator loading its offsets): said at info once, and an error only if it lasts.
    const startingUp = !this.joinedOnce && isRetriable(err) && this.downForMs < STARTUP_GRACE_MS;
    const firstOfOutage = !this.crashLogged;
    if (!startingUp) this.crashLogged = true;
    const level = startingUp ? (this.startupNoted ? 'debug' : 'info') : firstOfOutage ? 'error' : 'debug';
    this.startupNoted ||= startingUp;
    this.options.log[level](
      { err, component: this.options.name },
      startingUp
        ? `${this.options.name} consumer could not join its group yet (${err.message}); it is rebuilt with backoff`
        : `${this.options.name} consumer crashed; it is rebuilt with backoff`,
    );
    if (this.recovering) {
      this.crashedDuringLaunch = true;
      return;
    }
    void this.recover();
  }

  private async recover(): Promise<void> {
    this.recovering = true;
    const initial = this.options.initialBackoffMs ?? 250;
    try {
      while (!this.stopped) {
        // Looking for a missing topic is one metadata request: no need to back off far.
        const max = Math.min(this.options.maxBackoffMs ?? 10_000, this.topicWait ? TOPIC_WAIT_POLL_MS : Infinity);
        this.consecutiveFailures++;
        const ceiling = Math.min(max, initial * 2 ** Math.min(this.consecutiveFailures - 1, 20));
        const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
        this.options.log.debug(
          { component: this.options.name, attempt: this.consecutiveFailures, delayMs, downForMs: this.downForMs },
          `rebuilding the ${this.options.name} consumer`,
        );
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
        if (this.stopped) return;
        await this.current.disconnect().catch(() => undefined);
        this.crashedDuringLaunch = false;
        this.current = this.build();
        // Read before launching: the join may come before launch() returns, and it resets both.
        const attempts = this.consecutiveFailures;
        // A start that only waited for its topic is not a restart; the found line said it.
        const onlyWaitedForTopic = !this.joinedOnce && this.topicWait !== undefined;
        const downForMs = this.downForMs;
        try {
          await this.launch(this.current);
        } catch (err) {
          if (!this.launchFailed(err)) {
            this.options.log.debug(
              { err, component: this.options.name },
              `${this.options.name} consumer could not be rebuilt yet`,
            );
          }
          continue;
        }
        if (this.stopped) {
          await this.current.disconnect().catch(() => undefined);
          return;
        }
        if (this.crashedDuringLaunch) continue;
        if (onlyWaitedForTopic) return;
        this.restartCount++;
        this.options.onRestart?.();
        this.options.log.info(
          { component: this.options.name, attempts, downForMs },
          `${this.options.name} consumer rebuilt after ${attempts} attempt(s); joining`,
        );
        return;
      }
    } finally {
      this.recovering = false;
    }
  }
}

/** kafkajs marks the errors it would retry itself (`retriable`); anything else is not retriable. */
function isRetriable(err: unknown): boolean {
  return (err as { retriable?: unknown } | null)?.retriable === true;
}

/** Subscribing to a topic the broker does not have (kafkajs gives up on it at once). */
function isMissingTopic(err: unknown): boolean {
  return (err as { type?: unknown } | null)?.type === 'UNKNOWN_TOPIC_OR_PARTITION';
}
