import type { Admin, Kafka } from 'kafkajs';
import type { Gauge } from 'prom-client';
import type { Logger } from './logger';

/** Settings of a {@link RelayLagMonitor}. */
export interface RelayLagMonitorOptions {
  replyTopic: string;
  /** Every relay group of the deployment (REPLYGATE_RELAY_GROUPS): each is sampled. */
  groupIds: readonly string[];
  /** Sampling interval (REPLYGATE_RELAY_LAG_INTERVAL_MS); 0 turns the monitor off. */
  intervalMs: number;
}

/**
 * Samples each relay group's lag on the reply topic, per partition: the partition's high watermark
 * minus the group's committed offset (the earliest offset while the group has committed nothing).
 * It reads committed offsets through the admin API rather than from the relay's own batches, so a
 * relay stuck retrying Redis, a partition no relay owns, or a redundant group whose every relay is
 * gone still shows its lag growing.
 *
 * Every relay reports the same numbers for every group: aggregate with `max by (group, partition)`.
 * With redundant groups replies wait only where every group lags: `min by (partition)` of that.
 */
export class RelayLagMonitor {
  private admin: Admin | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: RelayLagMonitorOptions,
    private readonly gauge: Gauge<'group' | 'partition'>,
    private readonly log: Logger,
  ) {}

  /** Start sampling on the interval (the first sample right away). */
  start(): void {
    if (this.options.intervalMs <= 0 || this.timer !== undefined) return;
    const tick = (): void => {
      this.sampling ??= this.sample()
        .then(
          () => undefined,
          (err: unknown) => this.log.debug({ err }, 'relay lag sample failed'),
        )
        .finally(() => {
          this.sampling = undefined;
        });
    };
    this.timer = setInterval(tick, this.options.intervalMs);
    this.timer.unref();
    tick();
  }

  /** Take one sample now and set the gauge; returns lag by group, then by partition. */
  async sample(): Promise<Map<string, Map<number, number>>> {
    if (this.admin === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const { replyTopic, groupIds } = this.options;
    const [ends, ...committed] = await Promise.all([
      admin.fetchTopicOffsets(replyTopic),
      ...groupIds.map((groupId) => admin.fetchOffsets({ groupId, topics: [replyTopic] })),
    ]);
    const lags = new Map<string, Map<number, number>>();
    groupIds.forEach((group, i) => {
      const byPartition = new Map<number, string>();
      for (const p of committed[i]?.find((t) => t.topic === replyTopic)?.partitions ?? []) {
        byPartition.set(p.partition, p.offset);
      }
      const groupLags = new Map<number, number>();
      for (const end of ends) {
        const high = BigInt(end.high);
        const offset = byPartition.get(end.partition);
        const from = offset === undefined || BigInt(offset) < 0n ? BigInt(end.low) : BigInt(offset);
        const lag = Number(high > from ? high - from : 0n);
        groupLags.set(end.partition, lag);
        this.gauge.set({ group, partition: String(end.partition) }, lag);
      }
      lags.set(group, groupLags);
    });
    return lags;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
