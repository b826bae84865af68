import { ExpiredBeforeSendError } from '../errors/reply-errors';
import type { Message } from 'kafkajs';

/** Sends one topic's gathered messages as one produce call. */
export type TopicSender = (topic: string, messages: Message[]) => Promise<void>;

/** How a {@link ProduceBatcher} gathers messages. */
export interface ProduceBatching {
  /**
   * Wait this long after the first message of a batch before sending it (Kafka's `linger.ms`).
   * 0 sends at the end of the current event-loop turn, gathering only what arrived in that turn.
   */
  lingerMs: number;
  /**
   * Sends of one topic allowed in flight at once. While that many are waiting for the broker, new
   * messages gather and go as one batch when a send completes (what the Java producer's sender
   * thread does with `linger.ms=0`): no wait when idle, fewer produce round trips under load.
   * `Infinity` never holds a message back for an in-flight send.
   */
  maxInFlight: number;
  /** A batch is sent as soon as it holds this many messages (if a send slot is free). */
  maxBatch: number;
}

interface Pending {
  message: Message;
  /** Epoch ms after which the message is not worth sending (its request has been answered 503). */
  expiresAt: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface TopicQueue {
  pending: Pending[];
  inFlight: number;
  /** Cancels the scheduled send, when one is scheduled. */
  cancel: (() => void) | undefined;
}

/**
 * Gathers produce calls into batches, one queue per topic so that a topic the broker refuses
 * fails only its own requests. Every caller gets its own promise, settled with its batch's
 * outcome; nothing is retried here (kafkajs retries the send).
 */
export class ProduceBatcher {
  private readonly topics = new Map<string, TopicQueue>();

  constructor(
    private readonly send: TopicSender,
    private readonly batching: ProduceBatching,
  ) {}

  /**
   * Queue `message` for `topic`. One still queued at `expiresAt` (stuck behind a send the broker
   * has not acknowledged, e.g. during an outage) is dropped unsent and its promise rejected: its
   * caller has given up on it, and sending it late would only hand the service a stale request.
   */
  add(topic: string, message: Message, expiresAt = Infinity): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.topics.get(topic);
      if (queue === undefined) {
        queue = { pending: [], inFlight: 0, cancel: undefined };
        this.topics.set(topic, queue);
      }
      queue.pending.push({ message, expiresAt, resolve, reject });
      if (queue.inFlight >= this.batching.maxInFlight) return; // sent when a send completes
      if (queue.pending.length >= this.batching.maxBatch) this.sendNow(topic, queue);
      else if (queue.cancel === undefined) this.schedule(topic, queue);
    });
  }

  /** Send everything queued now, whatever is in flight (shutdown). */
  flush(): void {
    for (const [topic, queue] of this.topics) this.sendNow(topic, queue);
  }

  private schedule(topic: string, queue: TopicQueue): void {
    const fire = (): void => {
      queue.cancel = undefined;
      if (queue.inFlight < this.batching.maxInFlight) this.sendNow(topic, queue);
    };
    if (this.batching.lingerMs > 0) {
      const timer = setTimeout(fire, this.batching.lingerMs);
      queue.cancel = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(fire);
      queue.cancel = () => clearImmediate(immediate);
    }
  }

  private sendNow(topic: string, queue: TopicQueue): void {
    queue.cancel?.();
    queue.cancel = undefined;
    const now = Date.now();
    if (queue.pending.some((p) => p.expiresAt <= now)) {
      for (const p of queue.pending) if (p.expiresAt <= now) p.reject(new ExpiredBeforeSendError());
      queue.pending = queue.pending.filter((p) => p.expiresAt > now);
    }
    if (queue.pending.length === 0) return;
    const batch = queue.pending.splice(0, this.batching.maxBatch);
    queue.inFlight++;
    const done = (): void => {
      queue.inFlight--;
      // What gathered meanwhile has already waited a round trip: send it without lingering more.
      if (queue.pending.length > 0) {
        if (queue.inFlight < this.batching.maxInFlight) this.sendNow(topic, queue);
      } else if (queue.inFlight === 0 && queue.cancel === undefined) {
        this.topics.delete(topic);
      }
    };
    this.send(
      topic,
      batch.map((p) => p.message),
    ).then(
      () => {
        for (const p of batch) p.resolve();
        done();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
        done();
      },
    );
    if (queue.pending.length >= this.batching.maxBatch && queue.inFlight < this.batching.maxInFlight)
      this.sendNow(topic, queue);
    else if (queue.pending.length > 0 && queue.cancel === undefined && queue.inFlight < this.batching.maxInFlight)
      this.schedule(topic, queue);
  }
}
