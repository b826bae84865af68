import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';

/** Handles one message; a throw means "not done" (the reply could not be sent). */
export type HandleMessage = (payload: {
  topic: string;
  partition: number;
  message: KafkaMessage;
  heartbeat: () => Promise<void>;
}) => Promise<void>;

/** Retry delays for a message whose handling threw, then the last one for ever (until stopped). */
const RETRY_MS = [100, 250, 500, 1000, 2000, 5000];
/** While every slot of a partition is taken, heartbeat this often so the membership holds. */
const WAIT_HEARTBEAT_MS = 1000;

/** One partition's messages in flight and its commit point. */
class PartitionWork {
  /** Offsets handed to a handler and not finished. */
  readonly inFlight = new Set<bigint>();
  /** Offsets given up on (the member stopped or lost the partition first): never committed past. */
  readonly unfinished = new Set<bigint>();
  /** The tail of each key's chain: the next message with that key starts after it. */
  readonly keyTails = new Map<string, Promise<void>>();
  highestDispatched = -1n;
  committed = -1n;
  /** Wakes a dispatcher waiting for a free slot. */
  freed: (() => void) | undefined;
}

/**
 * Handles up to `limit` messages of one partition at once while keeping the order of messages
 * that share a Kafka key (a key's next message starts only after the previous one finished;
 * messages without a key have no order to keep). kafkajs hands `eachBatch` one batch per partition
 * at a time and fetches the next only when it returns, so a batch is dispatched and `eachBatch`
 * returns without waiting for the handlers: a slow request does not hold up the requests behind it.
 * Offsets are committed only up to the lowest one still in flight, so a crash re-handles what was
 * unfinished (at-least-once, as with one message at a time).
 */
export class KeyOrderedDispatcher {
  private readonly partitions = new Map<string, PartitionWork>();
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private commits: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: Consumer,
    private readonly limit: number,
    private readonly handle: HandleMessage,
    private readonly log: Logger,
  ) {}

  /** The `eachBatch` of a consumer run with `eachBatchAutoResolve: false` and `autoCommit: false`. */
  async dispatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const work = this.workOf(topic, partition);
    for (const message of batch.messages) {
      while (work.inFlight.size >= this.limit) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, WAIT_HEARTBEAT_MS);
          work.freed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        await heartbeat().catch(() => undefined);
      }
      // Not dispatched: not resolved either, so it is fetched again (by this member or the next owner).
      if (this.closing || !isRunning() || isStale()) return;
      const offset = BigInt(message.offset);
      work.inFlight.add(offset);
      if (offset > work.highestDispatched) work.highestDispatched = offset;
      const key = message.key === null ? undefined : message.key.toString('base64');
      const before = key === undefined ? undefined : work.keyTails.get(key);
      const done = (before ?? Promise.resolve())
        .then(() => this.handleUntilDone({ topic, partition, message, heartbeat }, isRunning))
        .then((ok) => {
          if (ok) work.unfinished.delete(offset);
          else work.unfinished.add(offset);
        })
        .finally(() => {
          work.inFlight.delete(offset);
          if (key !== undefined && work.keyTails.get(key) === done) work.keyTails.delete(key);
          work.freed?.();
          this.commit(topic, partition, work);
        });
      if (key !== undefined) work.keyTails.set(key, done);
      this.running.add(done);
      void done.finally(() => this.running.delete(done));
      // The fetch position moves on; the commit point does not (see commit()).
      resolveOffset(message.offset);
    }
  }

  /** Dispatch nothing more and wait for the messages in flight, and their commits. */
  async drain(): Promise<void> {
    this.closing = true;
    for (const w of this.partitions.values()) w.freed?.();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.commits;
  }

  private workOf(topic: string, partition: number): PartitionWork {
    const id = `${topic}\u0000${partition}`;
    let work = this.partitions.get(id);
    if (work === undefined) {
      work = new PartitionWork();
      this.partitions.set(id, work);
    }
    return work;
  }

  /** Retry a message whose reply could not be sent, until it is sent or this member lets go. */
  private async handleUntilDone(payload: Parameters<HandleMessage>[0], isRunning: () => boolean): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.handle(payload);
        return true;
      } catch (err) {
        // Left uncommitted: whoever owns the partition next handles it again.
        if (!isRunning() || this.closing) return false;
        const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
        this.log.warn({ err, offset: payload.message.offset, attempt, delayMs: delay }, 'request failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Commit up to the lowest offset in flight or given up on (everything below it is done). */
  private commit(topic: string, partition: number, work: PartitionWork): void {
    let next = work.highestDispatched + 1n;
    for (const o of work.inFlight) if (o < next) next = o;
    for (const o of work.unfinished) if (o < next) next = o;
    if (next <= work.committed) return;
    work.committed = next;
    const offset = next.toString();
    this.commits = this.commits.then(() =>
      this.consumer.commitOffsets([{ topic, partition, offset }]).catch((err: unknown) => {
        // A rebalance took the partition: its next owner re-reads from the last commit (at-least-once).
        this.log.debug({ err, topic, partition, offset }, 'offset commit failed');
      }),
    );
  }
}
