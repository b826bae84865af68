import type { TopicPartitionOffsetAndMetadata } from 'kafkajs';
import type { Logger } from '../observability/logger';

/** Commits offsets to the group coordinator (kafkajs `consumer.commitOffsets`). */
export type CommitOffsets = (offsets: TopicPartitionOffsetAndMetadata[]) => Promise<void>;

/**
 * Commits, every `intervalMs`, the offsets a relay has marked done (replies Redis acknowledged),
 * in one request for all partitions, off the path of the next batch. kafkajs' own auto-commit
 * cannot do this: with `autoCommit` on it commits after every batch whatever the interval.
 * Only done offsets are ever committed, so commit-after-write holds; a relay that dies re-reads
 * at most one interval of replies, which `SET NX` absorbs.
 */
export class OffsetCommitter {
  /** Next offset to read, per partition, not yet committed. */
  private readonly done = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly topic: string,
    private readonly commit: CommitOffsets,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Mark every offset up to `lastOffset` of `partition` as done. */
  markDone(partition: number, lastOffset: string): void {
    this.done.set(partition, (BigInt(lastOffset) + 1n).toString());
  }

  /** Forget partitions this relay no longer reads from where it marked them (lost or rewound). */
  forget(keep: (partition: number) => boolean): void {
    for (const partition of [...this.done.keys()]) if (!keep(partition)) this.done.delete(partition);
  }

  /** Commit what is done now; one commit at a time, in order. Failures are logged, not thrown. */
  flush(): Promise<void> {
    if (this.done.size === 0) return this.inFlight;
    const offsets = [...this.done].map(([partition, offset]) => ({ topic: this.topic, partition, offset }));
    this.done.clear();
    this.inFlight = this.inFlight.then(() =>
      this.commit(offsets).catch((err: unknown) => {
        // A rebalance or coordinator move: the partition's next owner re-reads from the last
        // committed offset. Put back what was not superseded, in case this relay still owns it.
        for (const { partition, offset } of offsets) if (!this.done.has(partition)) this.done.set(partition, offset);
        this.log.debug({ err, offsets }, 'relay offset commit failed; retried at the next interval');
      }),
    );
    return this.inFlight;
  }
}
