import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger';

/** Settings of a {@link SiblingCommits}. */
export interface SiblingCommitsOptions {
  replyTopic: string;
  /** The other relay groups of the deployment (REPLYGATE_RELAY_GROUPS minus this relay's). */
  groupIds: readonly string[];
  /** How often the siblings' committed offsets are read again. @defaultValue 2000 */
  refreshMs?: number;
  /** Longest a batch waits for the read that follows a group join. @defaultValue 2000 */
  joinWaitMs?: number;
}

/**
 * What the other relay groups have already stored, from their committed offsets: a group commits
 * an offset only after Redis acknowledged the writes (and the webhook hand-off) of every reply
 * before it, so a reply below a sibling's committed offset is in Redis already, or was, and has
 * expired by its TTL since. The relay skips those instead of writing them again.
 *
 * It matters when this relay's group is far behind the others: a group whose only relay was down
 * for longer than the reply TTL, or a group added to a running deployment (a new group reads from
 * the beginning of the topic). Without it such a group would write every reply of its backlog again,
 * and replies expired meanwhile would be stored a second time, notified a second time and counted
 * `stored` twice. Near the head of the topic, where both groups are in steady state, it changes
 * nothing: `SET NX` absorbs the second write.
 */
export class SiblingCommits {
  private admin: Admin | undefined;
  /** partition → the highest committed offset of any sibling group. */
  private committed = new Map<number, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** The read started at the last group join, which that generation's first batches wait for. */
  private afterJoin: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: SiblingCommitsOptions,
    private readonly log: Logger,
  ) {}

  /** Read the siblings' offsets now and every `refreshMs`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.stopped = false;
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs ?? 2000);
    this.timer.unref();
    void this.refresh();
  }

  /** The relay joined its group: its next batches may be a backlog, read the siblings' offsets first. */
  onJoin(): void {
    const read = this.refresh();
    this.afterJoin = read;
    void read.finally(() => {
      if (this.afterJoin === read) this.afterJoin = undefined;
    });
  }

  /** Resolves once the read that followed the last join is done (at most `joinWaitMs`). */
  async beforeBatch(): Promise<void> {
    const read = this.afterJoin;
    if (read === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      read,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.options.joinWaitMs ?? 2000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Whether some sibling group has committed past `offset` on `partition` (so stored that reply). */
  covers(partition: number, offset: string): boolean {
    const committed = this.committed.get(partition);
    return committed !== undefined && BigInt(offset) < committed;
  }

  /** One read of every sibling's committed offsets (single flight; a failure keeps the last ones). */
  refresh(): Promise<void> {
    this.inFlight ??= this.read()
      .catch((err: unknown) => this.log.debug({ err }, 'could not read the other relay groups’ offsets'))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async read(): Promise<void> {
    if (this.stopped) return;
    if (this.admin === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const { replyTopic, groupIds } = this.options;
    const all = await Promise.all(groupIds.map((groupId) => admin.fetchOffsets({ groupId, topics: [replyTopic] })));
    const next = new Map<number, bigint>();
    for (const topics of all) {
      for (const p of topics.find((t) => t.topic === replyTopic)?.partitions ?? []) {
        const offset = BigInt(p.offset);
        if (offset < 0n) continue; // this sibling has committed nothing on it
        if (offset > (next.get(p.partition) ?? -1n)) next.set(p.partition, offset);
      }
    }
    this.committed = next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
