import type { Message } from 'kafkajs';

/** Sends every message gathered in one linger window, grouped by topic, as one call. */
export type BatchSender = (topicMessages: { topic: string; messages: Message[] }[]) => Promise<void>;

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers produce calls for up to `lingerMs` (or `maxBatch` messages) and sends them as one
 * batch: what Kafka's `linger.ms` does and kafkajs lacks. Every caller still gets its own promise,
 * settled with the batch's outcome. Costs up to `lingerMs` of latency per request; saves a produce
 * round trip (and its syscalls) for every message beyond the first in a window.
 */
export class LingerBatcher {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: BatchSender,
    private readonly lingerMs: number,
    private readonly maxBatch = 500,
  ) {}

  add(topic: string, message: Message): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  /** Send what is queued now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic) ?? [];
      list.push(p.message);
      byTopic.set(p.topic, list);
    }
    this.send([...byTopic].map(([topic, messages]) => ({ topic, messages }))).then(
      () => batch.forEach((p) => p.resolve()),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  }
}
