import { Kafka, logLevel, type Admin, type PartitionMetadata } from 'kafkajs';
import type { ClusterNode } from './cluster-stack';

const OFFSETS_TOPIC = '__consumer_offsets';

/** A partition as `<topic>/<partition>`. */
export type PartitionKey = string;

/** One span of time in which a partition had no leader that could serve it. */
export interface Window {
  from: number;
  to: number;
}

/** Java's `String.hashCode` (UTF-16 code units, 32-bit overflow). */
function javaHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The `__consumer_offsets` partition of a consumer group: the broker leading it is the group's
 * coordinator (Kafka: `Utils.abs(groupId.hashCode) % offsets.topic.num.partitions`).
 */
export function offsetsPartitionOf(groupId: string, offsetsPartitions: number): number {
  const h = javaHashCode(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % offsetsPartitions;
}

/**
 * Polls partition metadata (leader and ISR) of some topics every `intervalMs` during a fault
 * scenario, asking each node that is up through its own client (one that is down is skipped, so a
 * dead broker costs no poll), and keeps each partition's leader over time. With the times the
 * scenario took nodes down and brought them back ({@link markDown}, {@link markUp}) it tells for
 * each partition when it had no leader that could serve: none (-1), or one that was down (after a
 * SIGKILL the partitions keep a dead leader until the controller fences it,
 * `broker.session.timeout.ms` later).
 */
export class LeaderWatch {
  /** Per partition, the leader seen at each change (and at the first poll). */
  readonly timeline = new Map<PartitionKey, { at: number; leader: number; isr: number[] }[]>();
  private readonly downSpans = new Map<number, Window[]>();
  private readonly admins = new Map<number, Admin>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** The last metadata seen, per topic. */
  readonly latest = new Map<string, PartitionMetadata[]>();
  polls = 0;
  failedPolls = 0;

  constructor(
    private readonly nodes: readonly ClusterNode[],
    private readonly topics: string[],
    private readonly intervalMs = 100,
  ) {
    for (const n of this.nodes) {
      const kafka = new Kafka({
        clientId: `faults-leader-watch-${n.id}`,
        brokers: [n.address],
        connectionTimeout: 500,
        requestTimeout: 2000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      });
      this.admins.set(n.id, kafka.admin());
    }
  }

  /** Start polling (a client per node, connected on first use). */
  async start(): Promise<void> {
    await this.pollOnce();
    this.timer = setInterval(() => void this.pollOnce(), this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([...this.admins.values()].map((a) => a.disconnect()));
  }

  /** Node `id` went down at `at` (SIGKILL sent, or SIGTERM sent for a controlled shutdown). */
  markDown(id: number, at = Date.now()): void {
    const spans = this.downSpans.get(id) ?? [];
    spans.push({ from: at, to: Infinity });
    this.downSpans.set(id, spans);
  }

  /** Node `id` serves again from `at`. */
  markUp(id: number, at = Date.now()): void {
    const last = this.downSpans.get(id)?.at(-1);
    if (last !== undefined && last.to === Infinity) last.to = at;
  }

  isDown(id: number, at = Date.now()): boolean {
    return (this.downSpans.get(id) ?? []).some((s) => s.from <= at && at < s.to);
  }

  /** One metadata answer, from the first node that is up and answers. */
  async fetch(topics: string[] | undefined = this.topics): Promise<Map<string, PartitionMetadata[]> | undefined> {
    for (const n of this.nodes) {
      if (this.isDown(n.id)) continue;
      const admin = this.admins.get(n.id);
      if (admin === undefined) continue;
      try {
        await admin.connect();
        const md = await admin.fetchTopicMetadata(topics === undefined ? undefined : { topics });
        return new Map(md.topics.map((t) => [t.name, t.partitions]));
      } catch {
        await admin.disconnect().catch(() => undefined);
      }
    }
    return undefined;
  }

  private async pollOnce(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const at = Date.now();
      const md = await this.fetch();
      this.polls++;
      if (md === undefined) {
        this.failedPolls++;
        return;
      }
      for (const [topic, partitions] of md) {
        this.latest.set(topic, partitions);
        for (const p of partitions) {
          const key = `${topic}/${p.partitionId}`;
          const line = this.timeline.get(key) ?? [];
          const last = line.at(-1);
          if (last === undefined || last.leader !== p.leader || last.isr.join() !== [...p.isr].sort().join())
            line.push({ at, leader: p.leader, isr: [...p.isr].sort() });
          this.timeline.set(key, line);
        }
      }
    } finally {
      this.polling = false;
    }
  }

  /** Whether node `id` is in the ISR of any watched partition, in the last metadata seen. */
  inAnyIsr(id: number): boolean {
    for (const partitions of this.latest.values()) if (partitions.some((p) => p.isr.includes(id))) return true;
    return false;
  }

  /** Partitions of `topic` led by node `id` in the last metadata seen. */
  ledBy(topic: string, id: number): number[] {
    return (this.latest.get(topic) ?? []).filter((p) => p.leader === id).map((p) => p.partitionId);
  }

  /** The node leading the most partitions of `topic` (lowest id on a tie). */
  mostLeading(topic: string): { id: number; partitions: number[] } {
    const best = this.nodes
      .map((n) => ({ id: n.id, partitions: this.ledBy(topic, n.id) }))
      .sort((a, b) => b.partitions.length - a.partitions.length || a.id - b.id)[0];
    if (best === undefined) throw new Error('no nodes');
    return best;
  }

  /** The `__consumer_offsets` partition of `groupId` (needs `__consumer_offsets` among the topics). */
  offsetsPartition(groupId: string): PartitionKey {
    const n = this.latest.get(OFFSETS_TOPIC)?.length;
    if (!n) throw new Error(`${OFFSETS_TOPIC} is not watched or has no partitions yet`);
    return `${OFFSETS_TOPIC}/${offsetsPartitionOf(groupId, n)}`;
  }

  /** Leader of a partition in the last metadata seen (-1 when unknown). */
  leaderOf(key: PartitionKey): number {
    return this.timeline.get(key)?.at(-1)?.leader ?? -1;
  }

  /**
   * When `key` could not take writes: `leader`, when it had no leader able to serve (-1, or a
   * leader that was down); `isr`, also while a down node was still in its ISR (with acks=all the
   * leader waits for every ISR member, so a write to any partition a dead broker follows waits
   * until the controller fences that broker and shrinks the ISR). Spans are closed at `until`
   * when still open.
   */
  windows(key: PartitionKey, until = Date.now(), kind: 'leader' | 'isr' = 'leader'): Window[] {
    const line = this.timeline.get(key) ?? [];
    if (line.length === 0) return [];
    const times = new Set<number>(line.map((s) => s.at));
    for (const spans of this.downSpans.values())
      for (const s of spans) {
        times.add(s.from);
        if (Number.isFinite(s.to)) times.add(s.to);
      }
    const sorted = [...times].filter((t) => t >= line[0]!.at && t <= until).sort((a, b) => a - b);
    const out: Window[] = [];
    let open: number | undefined;
    for (const t of sorted) {
      const state = [...line].reverse().find((s) => s.at <= t);
      const leader = state?.leader ?? -1;
      const bad =
        leader < 0 || this.isDown(leader, t) || (kind === 'isr' && (state?.isr ?? []).some((id) => this.isDown(id, t)));
      if (bad && open === undefined) open = t;
      if (!bad && open !== undefined) {
        out.push({ from: open, to: t });
        open = undefined;
      }
    }
    if (open !== undefined) out.push({ from: open, to: until });
    return out;
  }

  /** Every watched partition's windows (only those that had one). */
  allWindows(until = Date.now(), kind: 'leader' | 'isr' = 'leader'): Map<PartitionKey, Window[]> {
    const out = new Map<PartitionKey, Window[]>();
    for (const key of this.timeline.keys()) {
      const w = this.windows(key, until, kind);
      if (w.length > 0) out.set(key, w);
    }
    return out;
  }

  /**
   * Wait until every partition of every topic in the cluster (all of them, not only the watched
   * ones) has all `replicas` in its ISR, as an operator waits before restarting the next broker.
   */
  async untilFullIsr(timeoutMs: number): Promise<{ ok: boolean; ms: number; lagging: string[] }> {
    const { ok, ms, failing } = await this.untilNone(
      timeoutMs,
      (p) => p.leader < 0 || p.replicas.some((r) => !p.isr.includes(r)),
    );
    return { ok, ms, lagging: failing };
  }

  /**
   * Wait until every partition of every topic in the cluster is led by its preferred replica (the
   * first of its replicas), as after a preferred leader election.
   */
  async untilPreferredLeaders(timeoutMs: number): Promise<{ ok: boolean; ms: number; elsewhere: string[] }> {
    const { ok, ms, failing } = await this.untilNone(timeoutMs, (p) => p.leader !== p.replicas[0]);
    return { ok, ms, elsewhere: failing };
  }

  /** Poll the whole cluster's metadata until no partition is `failing` (up to 10 named when it times out). */
  private async untilNone(
    timeoutMs: number,
    failingPartition: (p: PartitionMetadata) => boolean,
  ): Promise<{ ok: boolean; ms: number; failing: string[] }> {
    const t = Date.now();
    let failing: string[] = ['(no metadata yet)'];
    while (Date.now() - t < timeoutMs) {
      const md = await this.fetch(undefined);
      if (md !== undefined) {
        failing = [];
        for (const [topic, partitions] of md)
          for (const p of partitions) if (failingPartition(p)) failing.push(`${topic}/${p.partitionId}`);
        if (failing.length === 0) return { ok: true, ms: Date.now() - t, failing };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return { ok: false, ms: Date.now() - t, failing: failing.slice(0, 10) };
  }
}
