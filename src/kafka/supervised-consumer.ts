import type { Consumer, ConsumerConfig, ConsumerRunConfig, ConsumerSubscribeTopics, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';

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
}

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
  /** When the membership was lost (or start began); undefined while joined. */
  private downSince: number | undefined;
  private consecutiveFailures = 0;
  private restartCount = 0;
  private recovering = false;
  /** The current consumer crashed while a rebuild was launching it: go round again. */
  private crashedDuringLaunch = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private firstJoin: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly options: SupervisedConsumerOptions) {
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

  /** Rebuilds that succeeded since start. */
  get restarts(): number {
    return this.restartCount;
  }

  /**
   * Connect, subscribe and run; resolves once the group has been joined. A failure to connect or
   * subscribe rejects (start-up fails fast and names the cause); crashes after `run()` are
   * recovered from, and the promise waits for the join that follows.
   */
  async start(): Promise<void> {
    this.downSince = Date.now();
    try {
      await this.launch(this.current);
    } catch (err) {
      await this.current.disconnect().catch(() => undefined);
      throw err;
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
      ...consumerConfig,
      // Every crash comes to crashed() with restart: false; this class restarts, with backoff.
      retry: { ...consumerConfig.retry, restartOnFailure: () => Promise.resolve(false) },
    });
    setup?.(consumer);
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumer !== this.current) return;
      this.consecutiveFailures = 0;
      this.crashLogged = false;
      this.downSince = undefined;
      this.setUp(true);
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
    await consumer.run(this.options.runConfig(consumer));
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    this.up = up;
    this.options.onStateChange?.(up);
  }

  private crashed(err: Error): void {
    // One error line per outage (a state change); the crashes and attempts of a long outage go to
    // debug, and the recovery says how many there were.
    const firstOfOutage = !this.crashLogged;
    this.crashLogged = true;
    this.downSince ??= Date.now();
    this.setUp(false);
    if (this.stopped) return;
    this.options.log[firstOfOutage ? 'error' : 'debug'](
      { err, component: this.options.name },
      `${this.options.name} consumer crashed; it is rebuilt with backoff`,
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
    const max = this.options.maxBackoffMs ?? 10_000;
    try {
      while (!this.stopped) {
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
        const downForMs = this.downForMs;
        try {
          await this.launch(this.current);
        } catch (err) {
          this.options.log.debug(
            { err, component: this.options.name },
            `${this.options.name} consumer could not be rebuilt yet`,
          );
          continue;
        }
        if (this.stopped) {
          await this.current.disconnect().catch(() => undefined);
          return;
        }
        if (this.crashedDuringLaunch) continue;
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
