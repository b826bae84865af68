import { randomBytes } from 'node:crypto';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';
import type { ReplyWrite } from '../exchange/reply-store';
import { decodeReplyMessage } from './reply-decoder';

/** What one rewind re-reads. */
export interface RewindPlan {
  replyTopic: string;
  /** Prefix of the rewind's own, throw-away consumer group (the relay group's name). */
  groupPrefix: string;
  /** Reply-topic partitions to re-read (those the relay owns when Redis came back). */
  partitions: readonly number[];
  /** Re-read replies written to Kafka this recently. */
  windowMs: number;
  maxReplyBytes: number;
  /** Give up (and log) after this long. @defaultValue 60000 */
  timeoutMs?: number;
}

/** What a finished rewind did. */
export interface RewindResult {
  /** Partitions re-read, with the offset range `[from, to)` of each. */
  ranges: Record<number, { from: string; to: string }>;
  /** Replies written again (`SET NX`; those that survived in Redis count too). */
  rewritten: number;
  completed: boolean;
}

/**
 * Re-reads a window of the reply topic after Redis lost its data, in a consumer of its own, so the
 * relay's live consumer keeps moving replies that arrive now: a fresh reply is never queued behind
 * a minute of old ones. The range of each partition is fixed when the rewind starts, from the
 * offset at `now - windowMs` up to the end offset at that moment (the live consumer writes
 * everything after it); the rewind consumer joins a random group of its own, commits nothing,
 * stops once every range is read and deletes its group.
 *
 * @example
 * const rewinder = new ReplyRewinder(kafka, plan, (writes) => store.writeReplies(writes).then(() => undefined), log);
 * const { rewritten } = await rewinder.run();
 */
export class ReplyRewinder {
  private consumer: Consumer | undefined;
  private cancelled = false;
  private finish: (() => void) | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly plan: RewindPlan,
    /** Writes replies to the store (first writer wins), retrying as the relay does; throws only when it gives up. */
    private readonly write: (writes: ReplyWrite[]) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Read every range once and write what it holds; resolves when done, cancelled or timed out. */
  async run(): Promise<RewindResult> {
    const { replyTopic, partitions, windowMs } = this.plan;
    const ranges = await this.ranges();
    const result: RewindResult = { ranges, rewritten: 0, completed: true };
    const todo = new Set(Object.keys(ranges).map(Number));
    if (todo.size === 0 || this.cancelled) return result;
    const groupId = `${this.plan.groupPrefix}-rewind-${randomBytes(6).toString('hex')}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 250, retry: { retries: 5 } });
    this.consumer = consumer;
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    const timer = setTimeout(() => {
      result.completed = false;
      this.finish?.();
    }, this.plan.timeoutMs ?? 60_000);
    this.log.warn({ partitions, windowMs, ranges }, 'Redis lost its data: re-reading recent replies beside the relay');
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: replyTopic, fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async (payload) => {
          result.rewritten += await this.handleBatch(payload, ranges, todo, consumer);
          if (todo.size === 0) this.finish?.();
        },
      });
      for (const p of todo)
        consumer.seek({ topic: replyTopic, partition: p, offset: (ranges[p] as { from: string }).from });
      await done;
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => undefined);
      await this.deleteGroup(groupId);
    }
    result.completed &&= !this.cancelled;
    this.log.info(
      { rewritten: result.rewritten, completed: result.completed },
      'relay rewind after Redis restart finished',
    );
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
    todo: Set<number>,
    consumer: Consumer,
  ): Promise<number> {
    const range = ranges[batch.partition];
    if (range === undefined || !todo.has(batch.partition) || this.cancelled) return 0;
    const end = BigInt(range.to);
    const inRange = batch.messages.filter((m) => BigInt(m.offset) < end);
    // A batch fetched before the seek took effect (from the latest offset) holds nothing to redo.
    if (inRange.length === 0) return 0;
    const writes: ReplyWrite[] = [];
    for (const message of inRange) {
      const decoded = decodeReplyMessage(message, batch.topic, batch.partition, this.plan.maxReplyBytes);
      if (decoded.ok) writes.push(decoded.write);
    }
    if (writes.length > 0) await this.write(writes);
    resolveOffset(batch.lastOffset());
    await heartbeat();
    if (BigInt(batch.lastOffset()) + 1n >= end) {
      todo.delete(batch.partition);
      consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
    }
    return writes.length;
  }

  /** `[offset at now - windowMs, end offset now)` of each planned partition that has anything in it. */
  private async ranges(): Promise<RewindResult['ranges']> {
    const { replyTopic, partitions, windowMs } = this.plan;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [from, to] = await Promise.all([
        admin.fetchTopicOffsetsByTimestamp(replyTopic, Date.now() - windowMs),
        admin.fetchTopicOffsets(replyTopic),
      ]);
      const ranges: RewindResult['ranges'] = {};
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
