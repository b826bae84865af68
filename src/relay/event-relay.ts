import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, PartitionAssigner } from 'kafkajs';
import type { AnsweredWaiter, EventLookup, EventRelayStore } from '../exchange/event-interest-store';
import type { ReplyStore, ReplyWrite } from '../exchange/reply-store';
import { SupervisedConsumer } from '../kafka/supervised-consumer';
import type { EventMetrics } from '../observability/event-metrics';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { Logger } from '../observability/logger';
import { encodeStateRecord, eventIsFresh } from '../protocol/event-await';
import { encodeEnvelope } from '../protocol/reply-envelope';
import { partId } from '../protocol/reply-keys';
import { decodeEvent, type EventRule, type RuleMatch } from './event-decoder';
import { RewindSlot, TopicRewinder } from './topic-rewinder';

/** Settings of an {@link EventRelay}. */
export interface EventRelayOptions {
  /** REPLYGATE_EVENT_GROUP: the event relays' own consumer group (never the reply group). */
  groupId: string;
  /** With several relay groups: this group's striped assigners (see `relayAssigners`). */
  partitionAssigners?: PartitionAssigner[] | undefined;
  /** The topics to read; fixed for this relay (a reload that changes them builds a new one). */
  topics: readonly string[];
  /** The rules in force, read at every batch so a route reload applies at once. */
  rules: () => readonly EventRule[];
  /** Events larger than this are skipped and counted (REPLYGATE_MAX_REPLY_BYTES). */
  maxEventBytes: number;
  sessionTimeoutMs?: number;
}

/** Retry delays for a Redis round trip that failed, before giving the batch back to Kafka. */
const RETRY_MS = [50, 100, 250, 500, 1000, 2000];

/**
 * Reads the awaited event topics in its own consumer group and turns each event into replies for
 * the requests waiting on its entity: per event and route, one pipelined round trip keeps the
 * latest state (blocking-read routes only) and reads the entity's waiters; a second one, only when
 * someone waits, stores the event under each waiter's correlation id (`SET NX`, so the first
 * matching event wins and a re-read is absorbed). That key is under the waiter's replica prefix, so
 * the replica wakes by its usual keyspace notification. Offsets are committed only after both
 * round trips were acknowledged.
 */
export class EventRelay {
  private readonly supervised: SupervisedConsumer;
  /** Topic → the partitions this relay owns since its last join. */
  private assigned: Record<string, number[]> = {};
  /** The re-read after a Redis restart, beside the live consumer (see {@link rewind}). */
  private readonly rewinds = new RewindSlot();
  private stopping = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: EventRelayStore,
    private readonly replies: ReplyStore,
    private readonly options: EventRelayOptions,
    private readonly metrics: EventMetrics,
    gatewayMetrics: GatewayMetrics,
    private readonly log: Logger,
  ) {
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
    this.supervised = new SupervisedConsumer({
      kafka,
      name: 'events',
      consumerConfig: {
        groupId: options.groupId,
        ...(options.partitionAssigners === undefined ? {} : { partitionAssigners: options.partitionAssigners }),
        sessionTimeout,
        heartbeatInterval: Math.max(100, Math.min(1_000, Math.floor(sessionTimeout / 10))),
        maxWaitTimeInMs: 250,
        retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 3000 },
      },
      // A new group reads from the beginning, so an event written before its first commit is not
      // skipped; events older than every rule's horizon are dropped without a Redis command.
      subscription: { topics: [...options.topics], fromBeginning: true },
      runConfig: () => ({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 4,
        eachBatch: (payload) => this.handleBatch(payload),
      }),
      setup: (consumer) => this.listen(consumer),
      log,
      onRestart: () => gatewayMetrics.consumerRestarts.inc({ component: 'events' }),
      onStateChange: (up) => gatewayMetrics.componentUp.set({ component: 'events' }, up ? 1 : 0),
    });
  }

  /** Ready when the consumer has joined its group. */
  get ready(): boolean {
    return this.supervised.joined;
  }

  get downForMs(): number {
    return this.supervised.downForMs;
  }

  /** Join the group; resolves once joined. */
  start(): Promise<void> {
    return this.supervised.start();
  }

  stop(): Promise<void> {
    this.stopping = true;
    this.rewinds.cancel();
    return this.supervised.stop();
  }

  /**
   * Re-read what the owned partitions of the event topics hold within each topic's longest rule
   * horizon (a command route's waiter lifetime, a blocking read's `stateTtlMs`) and handle it again,
   * as the reply relay does for replies: Redis lost the kept states, the answers written but not yet
   * read and the waiters themselves, which their replicas register again (with their original
   * `since`, so the stale rule still holds) when they see the new run id. Called a few seconds
   * after the restart was seen, so those re-registrations come first; events the live consumer
   * handled in between fall inside the re-read range (it ends at the end offsets of that moment).
   * A newer rewind replaces one running.
   */
  async rewind(): Promise<void> {
    const rules = this.options.rules();
    const targets = this.options.topics.flatMap((topic) => {
      const partitions = this.assigned[topic] ?? [];
      const horizons = rules.filter((r) => r.await.topic === topic).map((r) => r.horizonMs);
      return partitions.length === 0 || horizons.length === 0
        ? []
        : [{ topic, partitions, windowMs: Math.max(...horizons) }];
    });
    if (targets.length === 0 || this.stopping) return;
    const rewinder = new TopicRewinder(
      this.kafka,
      { targets, groupPrefix: this.options.groupId },
      async (topic, partition, messages) => {
        const now = Date.now();
        const matches = this.decode(topic, partition, messages, now, false);
        await this.withRetry(
          () => this.deliver(matches, now),
          () => Promise.resolve(),
          () => !this.stopping,
        );
        return matches.length;
      },
      this.log.child({ rewind: true }),
    );
    await this.rewinds.run(rewinder);
  }

  private listen(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.assigned = Object.fromEntries(
        this.options.topics.map((t) => [t, [...(e.payload.memberAssignment[t] ?? [])]]),
      );
    });
  }

  /** The rule matches of some events of one partition (unusable ones skipped and counted). */
  private decode(topic: string, partition: number, messages: KafkaMessage[], now: number, count: boolean): RuleMatch[] {
    const rules = this.options.rules().filter((r) => r.await.topic === topic);
    const matches: RuleMatch[] = [];
    for (const message of messages) {
      const decoded = decodeEvent(message, rules, { topic, partition, maxBytes: this.options.maxEventBytes, now });
      if (!count) {
        if (decoded.ok) matches.push(...decoded.matches);
        continue;
      }
      if (!decoded.ok) {
        this.metrics.events.inc({ result: 'skipped' });
        this.metrics.skipped.inc({ reason: decoded.reason });
        if (decoded.reason !== 'tombstone') {
          this.log.debug(
            { topic, partition, offset: message.offset, reason: decoded.reason },
            'skipping unusable event',
          );
        }
        continue;
      }
      this.metrics.events.inc({ result: decoded.matches.length > 0 ? 'matched' : 'unmatched' });
      matches.push(...decoded.matches);
    }
    return matches;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } = payload;
    if (batch.messages.length === 0) return;
    const now = Date.now();
    const matches = this.decode(batch.topic, batch.partition, batch.messages, now, true);
    const done = await this.withRetry(
      () => this.deliver(matches, now),
      heartbeat,
      () => isRunning() && !isStale(),
    );
    if (!done) return; // stopped or lost the partition: the offset stays uncommitted, the next owner re-reads
    const last = batch.lastOffset();
    resolveOffset(last);
    await commitOffsetsIfNecessary({
      topics: [
        { topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] },
      ],
    });
  }

  /** Keep states and find waiters (one round trip), then answer the fresh ones (a second, if any). */
  private async deliver(matches: readonly RuleMatch[], now: number): Promise<void> {
    if (matches.length === 0) return;
    const lookups: EventLookup[] = matches.map((m) => ({
      route: m.rule.route,
      entity: m.entity,
      // Blocking reads keep the latest state for their reader; `fromReply` routes for the gateway
      // that learns the entity from the command's reply, maybe after the event (for their horizon:
      // an older event is stale for every live waiter). Other command routes keep nothing.
      keep:
        m.rule.await.command && !m.rule.await.fromReply
          ? undefined
          : {
              record: encodeStateRecord(m.satisfies, m.timestamp, encodeEnvelope({ meta: m.meta, body: m.body })),
              ttlMs: m.rule.await.command ? m.rule.horizonMs : m.rule.await.stateTtlMs,
              timestamp: m.timestamp,
            },
    }));
    const found = await this.store.keepAndFindWaiters(lookups, now);
    this.metrics.redisCommands.inc(lookups.length + lookups.filter((l) => l.keep !== undefined).length);
    const writes: ReplyWrite[] = [];
    const answered: AnsweredWaiter[] = [];
    /** Streamed routes: each fresh matching event is a part; the satisfying one ends the stream. */
    const parts: { waiter: AnsweredWaiter; match: RuleMatch }[] = [];
    const ended = new Set<string>();
    let stale = 0;
    found.forEach((waiters, i) => {
      const match = matches[i] as RuleMatch;
      const stream = match.rule.await.stream;
      if ((!stream && !match.satisfies) || waiters.length === 0) return;
      const { meta, body } = match;
      for (const w of waiters) {
        if (!eventIsFresh(match.timestamp, w.since)) {
          stale++;
          continue;
        }
        const waiter = { ...w, route: match.rule.route, entity: match.entity };
        if (stream) {
          if (ended.has(w.correlationId)) continue;
          parts.push({ waiter, match });
          if (match.satisfies) ended.add(w.correlationId);
          continue;
        }
        writes.push({
          correlationId: w.correlationId,
          value: encodeEnvelope({ meta: { ...meta, id: w.correlationId }, body }),
        });
        answered.push(waiter);
      }
    });
    if (parts.length > 0) {
      const horizon = Math.max(...parts.map((p) => p.match.rule.horizonMs));
      // The event in the awaited state is a part too, followed by the end-of-stream marker.
      const counts = parts.map((p) => (p.match.satisfies ? 2 : 1));
      const seqs = await this.store.nextSeqs(
        parts.map((p) => p.waiter),
        counts,
        horizon,
      );
      this.metrics.redisCommands.inc(parts.length * 2);
      parts.forEach(({ waiter, match }, i) => {
        const seq = seqs[i] as number;
        const id = waiter.correlationId;
        writes.push({
          correlationId: partId(id, seq),
          value: encodeEnvelope({ meta: { ...match.meta, id, seq }, body: match.body }),
        });
        if (!match.satisfies) return;
        writes.push({
          correlationId: partId(id, seq + 1),
          value: encodeEnvelope({ meta: { ...match.meta, id, seq: seq + 1, final: true }, body: Buffer.alloc(0) }),
        });
        answered.push(waiter);
      });
    }
    if (stale > 0) this.metrics.answers.inc({ result: 'stale' }, stale);
    if (writes.length === 0) return;
    const results = await this.replies.writeReplies(writes);
    this.metrics.redisCommands.inc(writes.length);
    const stored = results.filter(Boolean).length;
    if (stored > 0) this.metrics.answers.inc({ result: 'stored' }, stored);
    if (results.length - stored > 0) this.metrics.answers.inc({ result: 'duplicate' }, results.length - stored);
    // Only once the answers are stored: a retry after a failed write must still find its waiters.
    await this.store.forgetWaiters(answered);
    this.metrics.redisCommands.inc(answered.length);
  }

  private async withRetry(
    work: () => Promise<void>,
    heartbeat: () => Promise<void>,
    active: () => boolean,
  ): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return true;
      } catch (err) {
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
        this.log.warn({ err, attempt }, 'event relay could not reach Redis; retrying');
        await new Promise((r) => setTimeout(r, delay));
        if (!active()) return false;
        await heartbeat().catch(() => undefined);
      }
    }
  }
}
