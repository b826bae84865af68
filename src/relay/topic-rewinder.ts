import { randomBytes } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../observability/logger';

/** One topic a rewind re-reads. */
export interface RewindTarget {
  topic: string;
  /** Partitions to re-read (those the relay owns when Redis came back). */
  partitions: readonly number[];
  /** Re-read what was written to the topic this recently. */
  windowMs: number;
}

/** What one rewind re-reads. */
export interface RewindPlan {
  targets: readonly RewindTarget[];
  /** Prefix of the rewind's own, throw-away consumer group (the relay group's name). */
  groupPrefix: string;
  /** Give up (and log) after this long. @defaultValue 60000 */
  timeoutMs?: number;
}

/** Offsets `[from, to)` of one partition. */
export interface RewindRange {
  from: string;
  to: string;
}

/** What a finished rewind did. */
export interface RewindResult {
  /** Topic → partition → the offset range re-read. */
  ranges: Record<string, Record<number, RewindRange>>;
  /** What the handler reported written again. */
  rewritten: number;
  completed: boolean;
}

/**
 * Writes what a batch of re-read messages holds again (first writer wins), retrying as the relay
 * does; returns how many it wrote; throws only when it gives up.
 */
export type RewindHandler = (topic: string, partition: number, messages: KafkaMessage[]) => Promise<number>;

/**
 * Re-reads a window of some topics after Redis lost its data, in a consumer of its own, so the
 * relay's live consumer keeps moving messages that arrive now: a fresh reply or event is never
 * queued behind a minute of old ones. The range of each partition is fixed when the rewind starts,
 * from the offset at `now - windowMs` up to the end offset at that moment (the live consumer
 * handles everything after it); the rewind consumer joins a random group of its own, commits
 * nothing, stops once every range is read and deletes its group. Used by the reply relay (reply
 * topic) and the event relay (awaited event topics).
 *
 * @example
 * const rewinder = new TopicRewinder(kafka, plan, (topic, partition, messages) => rewrite(messages), log);
 * const { rewritten } = await rewinder.run();
 */
export class TopicRewinder {
  private consumer: Consumer | undefined;
  private cancelled = false;
  private finish: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly plan: RewindPlan,
    private readonly handle: RewindHandler,
    private readonly log: Logger,
  ) {}

  /** Read every range once and hand over what it holds; resolves when done, cancelled or timed out. */
  async run(): Promise<RewindResult> {
    const ranges: RewindResult['ranges'] = {};
    for (const target of this.plan.targets) {
      const found = await this.ranges(target);
      if (Object.keys(found).length > 0) ranges[target.topic] = found;
    }
    const result: RewindResult = { ranges, rewritten: 0, completed: true };
    const todo = new Set(Object.entries(ranges).flatMap(([topic, r]) => Object.keys(r).map((p) => `${topic}:${p}`)));
    if (todo.size === 0 || this.cancelled) return result;
    const groupId = `${this.plan.groupPrefix}-rewind-${randomBytes(6).toString('hex')}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 250, retry: { retries: 5 } });
    this.consumer = consumer;
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const timer = setTimeout(() => {
      result.completed = false;
      this.finish?.();
    }, this.plan.timeoutMs ?? 60_000);
    const windows = Object.fromEntries(this.plan.targets.map((t) => [t.topic, t.windowMs]));
    this.log.warn({ windows, ranges }, 'Redis lost its data: re-reading recent messages beside the relay');
    try {
      await consumer.connect();
      for (const topic of Object.keys(ranges)) await consumer.subscribe({ topic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => {
          result.rewritten += await this.handleBatch(payload, ranges, todo, consumer);
          if (todo.size === 0) this.finish?.();
        },
      });
      for (const [topic, byPartition] of Object.entries(ranges))
        for (const [p, range] of Object.entries(byPartition))
          consumer.seek({ topic, partition: Number(p), offset: range.from });
      await done;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      await this.deleteGroup(groupId);
    }
    result.completed &&= !this.cancelled;
    this.log.info({ rewritten: result.rewritten, completed: result.completed }, 'rewind after Redis restart finished');
    return result;
  }

  /** Stop early (another Redis restart started a newer rewind, or the relay stops). */
  cancel(): void {
    this.cancelled = true;
    this.finish?.();
  }

  private async handleBatch(
    { batch, resolveOffset, heartbeat }: EachBatchPayload,
    ranges: RewindResult['ranges'],
    todo: Set<string>,
    consumer: Consumer,
  ): Promise<number> {
    const id = `${batch.topic}:${batch.partition}`;
    const range = ranges[batch.topic]?.[batch.partition];
    if (range === undefined || !todo.has(id) || this.cancelled) return 0;
    const end = BigInt(range.to);
    const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
    // A batch fetched before the seek took effect (from the latest offset) holds nothing to redo.
    if (inRange.length === 0) return 0;
    const written = await this.handle(batch.topic, batch.partition, inRange);
    resolveOffset(batch.lastOffset());
    await heartbeat();
    if (BigInt(batch.lastOffset()) + 1n >= end) {
      todo.delete(id);
      consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
    }
    return written;
  }

  /** `[offset at now - windowMs, end offset now)` of each planned partition that has anything in it. */
  private async ranges({ topic, partitions, windowMs }: RewindTarget): Promise<Record<number, RewindRange>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [from, to] = await Promise.all([
        admin.fetchTopicOffsetsByTimestamp(topic, Date.now() - windowMs),
        admin.fetchTopicOffsets(topic),
      ]);
      const ranges: Record<number, RewindRange> = {};
      for (const { partition, offset } of from) {
        const end = to.find((t) => t.partition === partition)?.offset;
        if (!partitions.includes(partition) || end === undefined || offset === '-1') continue;
        if (BigInt(offset) < BigInt(end)) ranges[partition] = { from: offset, to: end };
      }
      return ranges;
    } finally {
      await admin.disconnect();
    }
  }

  private async deleteGroup(groupId: string): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch (err) {
      this.log.debug({ err, groupId }, 'could not delete the rewind consumer group (it expires by itself)');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

/**
 * The one rewind a relay runs at a time: a newer rewind (another Redis restart) cancels the one
 * running, and stopping the relay cancels it.
 */
export class RewindSlot {
  private current: TopicRewinder | undefined;

  /** Cancel the rewind running, if any, and run `rewinder` in its place. */
  async run(rewinder: TopicRewinder): Promise<RewindResult> {
    this.current?.cancel();
    this.current = rewinder;
    try {
      return await rewinder.run();
    } finally {
      if (this.current === rewinder) this.current = undefined;
    }
  }

  cancel(): void {
    this.current?.cancel();
  }
}
