import type { ReplyPartitionHint } from '../kafka/request-message';

/**
 * The reply-topic partitions a relay owns in its group right now, dealt out in turn as the reply
 * partition of requests published by the same process (role `all`). A reply that comes back on one
 * of them is read by this process's own relay and wakes its request in-process: no keyspace
 * notification to handle, no `GET`. Only a hint: empty while the relay is out of its group or
 * rebalancing (requests then name no partition), and a reply that lands elsewhere (its partition
 * moved, the service ignored the header) takes the Redis path like any other.
 */
export class OwnedPartitions implements ReplyPartitionHint {
  private owned: readonly number[] = [];
  private turn = 0;

  /** The partitions of the group generation just joined. */
  set(partitions: readonly number[]): void {
    this.owned = [...partitions];
  }

  /** Out of the group (rebalancing, crashed, stopping): hint nothing until the next join. */
  clear(): void {
    this.owned = [];
  }

  /** The next owned partition in turn, or undefined when none is owned now. */
  next(): number | undefined {
    const n = this.owned.length;
    if (n === 0) return undefined;
    this.turn = (this.turn + 1) % n;
    return this.owned[this.turn];
  }
}
