import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';

/**
 * Asks the cluster for the reply topic's metadata every `intervalMs`, so `/readyz` and admission
 * reflect a broker outage. kafkajs' producer fires no event when a broker goes away between
 * sends, so without a probe a replica would look ready while every publish fails.
 */
export class KafkaProbe {
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ok = true;
  private running = false;
  private misses = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly log: Logger,
    private readonly intervalMs = 2000,
    private readonly timeoutMs = 3000,
  ) {}

  /** Whether the last probe reached the cluster. */
  get reachable(): boolean {
    return this.ok;
  }

  start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** One probe; resolves with the new state. */
  async probe(): Promise<boolean> {
    if (this.running) return this.ok;
    this.running = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      this.admin ??= this.kafka.admin({ retry: { retries: 0 } });
      const admin = this.admin;
      await Promise.race([
        (async () => {
          await admin.connect();
          await admin.fetchTopicMetadata({ topics: [this.topic] });
        })(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      if (!this.ok) this.log.info('Kafka reachable again');
      this.ok = true;
      this.misses = 0;
    } catch (err) {
      // Two misses in a row: one slow answer on a busy machine is not an outage.
      this.misses++;
      if (this.misses >= 2) {
        if (this.ok) this.log.warn({ err }, 'Kafka unreachable: /readyz 503 and new requests refused until it is back');
        this.ok = false;
      }
      // A fresh admin next time: the old one may hold a dead connection.
      const stale = this.admin;
      this.admin = undefined;
      void stale?.disconnect().catch(() => undefined);
    } finally {
      clearTimeout(timer);
      this.running = false;
    }
    return this.ok;
  }
}
