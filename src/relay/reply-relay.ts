import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import { heartbeatIntervalFor, SupervisedConsumer } from '../kafka/supervised-consumer';
import type { Logger } from '../observability/logger';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { ReplyStore, ReplyWrite } from '../exchange/reply-store';
import { OffsetCommitter } from './offset-committer';
import { decodeReplyMessage } from './reply-decoder';
import { RewindSlot, TopicRewinder } from './topic-rewinder';
import { SiblingCommits } from './sibling-commits';
import { OwnedPartitions } from './owned-partitions';

/** Settings of a {@link ReplyRelay}. */
export interface ReplyRelayOptions {
  replyTopic: string;
  groupId: string;
  maxReplyBytes: number;
  /**
   * How often resolved offsets (replies already in Redis) are committed; 0 commits after every
   * batch. @defaultValue 100
   */
  commitIntervalMs?: number;
  /** Consumer group session timeout. @defaultValue 10000 */
  sessionTimeoutMs?: number;
  /** Partitions processed in parallel. @defaultValue 4 */
  partitionsConsumedConcurrently?: number;
  /**
   * Runs after a batch's replies are stored and before its offset is committed (webhook hand-off:
   * a job enqueued here survives this relay). A throw retries the whole write; `SET NX` keeps that
   * harmless.
   */
  afterWrite?: (writes: readonly ReplyWrite[]) => Promise<void>;
  /**
   * The other redundant relay groups (REPLYGATE_RELAY_GROUPS), which read the same partitions:
   * replies they have committed are skipped, not written again (see {@link SiblingCommits}).
   */
  siblingGroupIds?: readonly string[];
  /** How the group splits the partitions (kafkajs' round robin when absent); see `relayAssigners`. */
  partitionAssigners?: PartitionAssigner[];
}

/** Retry delays for a Redis write that failed, before giving the batch back to Kafka. */
const WRITE_RETRY_MS = [50, 100, 250, 500, 1000, 2000];

/**
 * Moves replies from the shared reply topic into the reply store. Every relay joins one consumer
 * group, so each reply is taken by one relay of that group whatever replica asked for it; with
 * redundant groups (REPLYGATE_RELAY_GROUPS) one relay of each group takes it, the first write
 * wins (`SET NX`) and the others count a duplicate. Offsets are committed only after Redis
 * acknowledged the batch's writes: a relay killed mid-batch loses nothing, and the re-read
 * duplicates are absorbed by `SET NX`.
 */
export class ReplyRelay {
  /** The group consumer, rebuilt after any crash (kafkajs gives up on some for good). */
  private readonly supervised: SupervisedConsumer;
  /** Reply-topic partitions this relay owns now (from the last group join). */
  private assigned: number[] = [];
  /**
   * The same partitions as a hint for requests published by this process (role `all`): empty
   * whenever the relay is not reading them (rebalancing, crashed, stopped).
   */
  readonly owned = new OwnedPartitions();
  private stopping = false;
  /** The re-read after a Redis restart, beside the live consumer (see {@link rewind}). */
  private readonly rewinds = new RewindSlot();
  /** Periodic commits of done offsets; undefined when every batch commits (commitIntervalMs 0). */
  private readonly committer: OffsetCommitter | undefined;
  /** What the other relay groups have stored already; undefined with a single group. */
  private readonly siblings: SiblingCommits | undefined;

  constructor(
    kafka: Kafka,
    private readonly store: ReplyStore,
    private readonly options: ReplyRelayOptions,
    private readonly metrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    this.supervised = new SupervisedConsumer({
      kafka,
      name: 'relay',
      consumerConfig: {
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs ?? 10_000,
        heartbeatInterval: heartbeatIntervalFor(options.sessionTimeoutMs ?? 10_000),
        maxWaitTimeInMs: 250,
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 3000 },
        ...(options.partitionAssigners === undefined ? {} : { partitionAssigners: options.partitionAssigners }),
      },
      // fromBeginning matters only for a brand-new group: a reply written before the group's first
      // commit must not be skipped (the "first requests time out" failure of other gateways).
      subscription: { topics: [options.replyTopic], fromBeginning: true },
      runConfig: () => ({
        // Offsets are committed by this relay only, and only once Redis acknowledged their writes:
        // every batch (commitIntervalMs 0) or by the OffsetCommitter's timer.
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 4,
        eachBatch: (payload) => this.handleBatch(payload),
      }),
      setup: (consumer) => this.listen(consumer),
      log,
      onRestart: () => metrics.consumerRestarts.inc({ component: 'relay' }),
      onStateChange: (up) => {
        metrics.componentUp.set({ component: 'relay' }, up ? 1 : 0);
        if (!up) this.owned.clear();
      },
    });
    metrics.componentUp.set({ component: 'relay' }, 0);
    if (options.siblingGroupIds !== undefined && options.siblingGroupIds.length > 0) {
      this.siblings = new SiblingCommits(
        kafka,
        { replyTopic: options.replyTopic, groupIds: options.siblingGroupIds },
        log.child({ siblings: options.siblingGroupIds }),
      );
    }
    const interval = options.commitIntervalMs ?? 100;
    if (interval > 0) {
      this.committer = new OffsetCommitter(
        options.replyTopic,
        (offsets) => this.supervised.consumer.commitOffsets(offsets),
        interval,
        log,
      );
    }
  }

  private listen(consumer: Consumer): void {
    const events = consumer.events;
    consumer.on(events.GROUP_JOIN, (e) => {
      this.metrics.consumerGroupJoins.inc({ component: 'relay' });
      this.assigned = [...(e.payload.memberAssignment[this.options.replyTopic] ?? [])];
      this.owned.set(this.assigned);
      this.committer?.forget((p) => this.assigned.includes(p));
      this.siblings?.onJoin();
      this.log.info(
        { groupId: this.options.groupId, assignment: e.payload.memberAssignment },
        'relay joined the reply consumer group',
      );
    });
    consumer.on(events.FETCH, () => this.metrics.relayFetches.inc());
    consumer.on(events.REBALANCING, () => {
      this.log.info('relay rebalancing');
      this.owned.clear();
      // Best effort, while this member's generation still counts: what is done now need not be
      // re-read by the partitions' next owners. A commit that loses the race is retried after the
      // join for the partitions this relay keeps, and the rest are re-read (SET NX).
      void this.committer?.flush();
    });
  }

  /** Ready when the consumer has joined its group (it may own no partitions if relays > partitions). */
  get ready(): boolean {
    return this.supervised.joined;
  }

  /** How long the relay has been out of its group after a crash (0 while it is a member). */
  get downForMs(): number {
    return this.supervised.downForMs;
  }

  /** Join the group and start moving replies; resolves once the group has been joined. */
  async start(): Promise<void> {
    this.siblings?.start();
    await this.supervised.start();
    this.committer?.start();
  }

  /**
   * Re-read the last `windowMs` of replies on the partitions this relay owns and write them again
   * (`SET NX` keeps what survived). Used when Redis lost its data (a restart without persistence):
   * replies the relay had written and committed are gone from Redis but not from Kafka. The re-read
   * runs in a consumer of its own ({@link TopicRewinder}), up to the offsets current now, while the
   * live consumer keeps writing replies that arrive meanwhile; a newer rewind replaces one running.
   */
  async rewind(kafka: Kafka, windowMs: number): Promise<void> {
    const partitions = [...this.assigned];
    if (partitions.length === 0 || this.stopping) return;
    const rewinder = new TopicRewinder(
      kafka,
      { targets: [{ topic: this.options.replyTopic, partitions, windowMs }], groupPrefix: this.options.groupId },
      async (topic, partition, messages) => {
        const writes: ReplyWrite[] = [];
        for (const message of messages) {
          const decoded = decodeReplyMessage(message, topic, partition, this.options.maxReplyBytes);
          if (decoded.ok) writes.push(decoded.write);
        }
        if (writes.length === 0) return 0;
        const results = await this.writeWithRetry(
          writes,
          () => Promise.resolve(),
          () => !this.stopping,
        );
        const stored = results?.filter(Boolean).length ?? 0;
        if (stored > 0) this.metrics.relayWrites.inc({ result: 'rewound' }, stored);
        return writes.length;
      },
      this.log.child({ rewind: true }),
    );
    await this.rewinds.run(rewinder);
  }

  /** Leave the group after the batch in hand is written and committed. */
  async stop(): Promise<void> {
    // From here every batch commits its own offsets (the one in hand included); what is done
    // already is committed now, while this relay is still a member of the group.
    this.stopping = true;
    this.owned.clear();
    this.rewinds.cancel();
    this.committer?.stop();
    await this.committer?.flush();
    await this.supervised.stop();
    await this.siblings?.stop();
  }

  private async handleBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0) return;
    await this.siblings?.beforeBatch();
    const writes: ReplyWrite[] = [];
    let covered = 0;
    let bytes = 0;
    for (const message of batch.messages) {
      bytes += messageBytes(message);
      if (this.siblings?.covers(batch.partition, message.offset) === true) {
        covered++; // another relay group stored it (and handed it to webhooks) before committing
        continue;
      }
      const decoded = decodeReplyMessage(message, batch.topic, batch.partition, this.options.maxReplyBytes);
      if (decoded.ok) {
        writes.push(decoded.write);
      } else {
        this.metrics.relayPoison.inc({ reason: decoded.reason });
        this.log.warn(
          { topic: batch.topic, partition: batch.partition, offset: message.offset, reason: decoded.reason },
          'skipping unusable message on the reply topic',
        );
      }
    }
    this.metrics.relayReadBytes.inc(bytes);
    const results = await this.writeWithRetry(writes, heartbeat, () => isRunning() && !isStale());
    if (results === undefined) return; // stopped or lost the partition: leave the offset uncommitted
    let stored = 0;
    for (const r of results) if (r) stored++;
    if (stored > 0) this.metrics.relayWrites.inc({ result: 'stored' }, stored);
    const duplicates = results.length - stored + covered;
    if (duplicates > 0) this.metrics.relayWrites.inc({ result: 'duplicate' }, duplicates);
    const last = batch.lastOffset();
    resolveOffset(last);
    if (this.committer !== undefined && !this.stopping) {
      // A partition lost meanwhile is left to its next owner, which re-reads it (SET NX).
      if (this.assigned.includes(batch.partition)) this.committer.markDone(batch.partition, last);
      return;
    }
    await commitOffsetsIfNecessary({
      topics: [
        { topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] },
      ],
    });
  }

  private async writeWithRetry(
    writes: ReplyWrite[],
    heartbeat: () => Promise<void>,
    active: () => boolean,
  ): Promise<boolean[] | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const results = await this.store.writeReplies(writes);
        await this.options.afterWrite?.(writes);
        return results;
      } catch (err) {
        const delay = WRITE_RETRY_MS[Math.min(attempt, WRITE_RETRY_MS.length - 1)] as number;
        this.log.warn({ err, attempt, count: writes.length }, 'relay could not write replies to Redis; retrying');
        await new Promise((r) => setTimeout(r, delay));
        if (!active()) return undefined;
        await heartbeat().catch(() => undefined);
      }
    }
  }
}

/** The size of a message as read: key, value and header names and values. */
function messageBytes(message: KafkaMessage): number {
  let n = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    n += name.length;
    if (Array.isArray(value)) for (const v of value) n += v.length;
    else if (value !== undefined) n += value.length;
  }
  return n;
}
