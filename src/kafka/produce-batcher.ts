import { ExpiredBeforeSendError } from '../errors/reply-errors';
import type { Message } from 'kafkajs';

/**
 * Sends one topic's gathered messages as one produce call. `group` is the key {@link
 * ProduceBatching.prepare} gave them (the partition leader they go to), when there is one.
 */
export type TopicSender = (topic: string, messages: Message[], group?: string) => Promise<void>;

/** How a failed send is tried again, within each message's deadline. */
export interface ProduceRetry {
  /** Whether a send that failed with `err` may succeed if sent again (a leader moving, a broker restarting). */
  isRetriable(err: unknown): boolean;
  /** First wait before a resend, doubled per attempt (with jitter). @defaultValue 50 */
  initialBackoffMs?: number;
  /** Longest wait between resends: how late a message notices that the leader is back. @defaultValue 500 */
  maxBackoffMs?: number;
}

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
  /**
   * Called for every message of a batch at each attempt: the message to send (e.g. with its
   * partition chosen) and its group. A batch goes out as one send per group, all in flight
   * together and counted as one send; a group that fails fails (or retries) only its own messages.
   * Without it a batch is one send.
   */
  prepare?: (topic: string, message: Message) => { group: string; message: Message };
  /**
   * Send again, until its deadline, a message whose send failed with a retriable error. Without
   * it (or for a message added without a deadline) a failed send rejects at once.
   */
  retry?: ProduceRetry;
}

interface Pending {
  message: Message;
  /** Epoch ms after which the message is not worth sending (its request has been answered 503). */
  expiresAt: number;
  /** Sends that failed so far. */
  attempts: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface TopicQueue {
  pending: Pending[];
  inFlight: number;
  /** Cancels the scheduled send, when one is scheduled. */
  cancel: (() => void) | undefined;
  /** Messages waiting out a backoff before they join `pending` again. */
  retrying: Set<{ timer: NodeJS.Timeout; pending: Pending[] }>;
}

/**
 * Gathers produce calls into batches, one queue per topic so that a topic the broker refuses
 * fails only its own requests. Every caller gets its own promise, settled with its messages'
 * outcome. With {@link ProduceBatching.retry}, a message whose send failed for a reason that can
 * pass (no leader yet, a broker away) is sent again with backoff until its deadline, and only the
 * messages of the group that failed are sent again: kafkajs' own retry is meant to be off
 * (`retries: 0`), since it resends a multi-broker batch only to the brokers that have not
 * answered yet and so drops the messages that a leader change moved onto a broker that had
 * (kafkajs issue #1303).
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
      const queue = this.queueOf(topic);
      queue.pending.push({ message, expiresAt, attempts: 0, resolve, reject });
      this.kick(topic, queue);
    });
  }

  /** Send everything queued now, whatever is in flight or backing off (shutdown). */
  flush(): void {
    for (const [topic, queue] of this.topics) {
      for (const r of queue.retrying) {
        clearTimeout(r.timer);
        queue.pending.unshift(...r.pending);
      }
      queue.retrying.clear();
      this.sendNow(topic, queue);
    }
  }

  private queueOf(topic: string): TopicQueue {
    let queue = this.topics.get(topic);
    if (queue === undefined) {
      queue = { pending: [], inFlight: 0, cancel: undefined, retrying: new Set() };
      this.topics.set(topic, queue);
    }
    return queue;
  }

  /** Send or schedule what is pending, as the slots allow. */
  private kick(topic: string, queue: TopicQueue): void {
    if (queue.inFlight >= this.batching.maxInFlight) return; // sent when a send completes
    if (queue.pending.length >= this.batching.maxBatch) this.sendNow(topic, queue);
    else if (queue.cancel === undefined) this.schedule(topic, queue);
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
    if (queue.pending.length === 0) {
      this.forgetIfIdle(topic, queue);
      return;
    }
    const batch = queue.pending.splice(0, this.batching.maxBatch);
    queue.inFlight++;
    const groups = this.groups(topic, batch);
    let left = groups.length;
    for (const { group, pending, messages } of groups) {
      this.send(topic, messages, group)
        .then(
          () => {
            for (const p of pending) p.resolve();
          },
          (err: unknown) => this.failed(topic, queue, pending, err),
        )
        .finally(() => {
          if (--left === 0) this.done(topic, queue);
        });
    }
    if (queue.pending.length >= this.batching.maxBatch && queue.inFlight < this.batching.maxInFlight)
      this.sendNow(topic, queue);
    else if (queue.pending.length > 0 && queue.cancel === undefined && queue.inFlight < this.batching.maxInFlight)
      this.schedule(topic, queue);
  }

  private groups(
    topic: string,
    batch: Pending[],
  ): { group: string | undefined; pending: Pending[]; messages: Message[] }[] {
    const { prepare } = this.batching;
    if (prepare === undefined) return [{ group: undefined, pending: batch, messages: batch.map((p) => p.message) }];
    const byGroup = new Map<string, { group: string; pending: Pending[]; messages: Message[] }>();
    for (const p of batch) {
      const { group, message } = prepare(topic, p.message);
      let g = byGroup.get(group);
      if (g === undefined) {
        g = { group, pending: [], messages: [] };
        byGroup.set(group, g);
      }
      g.pending.push(p);
      g.messages.push(message);
    }
    return [...byGroup.values()];
  }

  /** A send failed: retry what may still make it before its deadline, reject the rest. */
  private failed(topic: string, queue: TopicQueue, pending: Pending[], err: unknown): void {
    const retry = this.batching.retry;
    const now = Date.now();
    const again = retry?.isRetriable(err)
      ? pending.filter((p) => Number.isFinite(p.expiresAt) && p.expiresAt - now > 1)
      : [];
    for (const p of pending) if (!again.includes(p)) p.reject(err);
    if (again.length === 0 || retry === undefined) return;
    const attempts = Math.max(...again.map((p) => ++p.attempts));
    const ceiling = Math.min(
      retry.maxBackoffMs ?? 500,
      (retry.initialBackoffMs ?? 50) * 2 ** Math.min(attempts - 1, 20),
    );
    const backoff = ceiling / 2 + (Math.random() * ceiling) / 2;
    // Never wait past the earliest deadline of the group: its last chance is a send before it.
    const soonest = Math.min(...again.map((p) => p.expiresAt)) - now;
    const delayMs = Math.max(1, Math.min(backoff, soonest / 2));
    const entry = {
      timer: setTimeout(() => {
        queue.retrying.delete(entry);
        queue.pending.unshift(...again);
        this.kick(topic, queue);
      }, delayMs),
      pending: again,
    };
    queue.retrying.add(entry);
  }

  private done(topic: string, queue: TopicQueue): void {
    queue.inFlight--;
    // What gathered meanwhile has already waited a round trip: send it without lingering more.
    if (queue.pending.length > 0) {
      if (queue.inFlight < this.batching.maxInFlight) this.sendNow(topic, queue);
    } else this.forgetIfIdle(topic, queue);
  }

  private forgetIfIdle(topic: string, queue: TopicQueue): void {
    if (queue.inFlight === 0 && queue.cancel === undefined && queue.retrying.size === 0 && queue.pending.length === 0)
      this.topics.delete(topic);
  }
}
