import type { ReplyStore, ReplyWrite } from '../exchange/reply-store';
import { ReplyKeys } from '../protocol/reply-keys';
import { groupBySlot } from './key-slot';
import { isCluster, type RedisClient } from './redis-connections';

/**
 * Replies in Redis under `<prefix>reply:<correlationId>`, written with `SET … PX ttl NX` so the
 * first reply wins and duplicates from relay re-reads are absorbed.
 *
 * On a Redis Cluster the reply keys spread over every slot (no hash tag: see docs/ARCHITECTURE.md,
 * "Redis Cluster"): the auto-pipelined SETs go out as one pipeline per master, and the resync
 * read is one MGET per slot instead of one MGET across slots (which Redis refuses with CROSSSLOT).
 */
export class RedisReplyStore implements ReplyStore {
  private readonly cluster: boolean;
  private readonly keys: ReplyKeys;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    private readonly ttlMs: number,
  ) {
    this.cluster = isCluster(redis);
    this.keys = new ReplyKeys(keyPrefix);
  }

  keyOf(correlationId: string): string {
    return this.keys.reply(correlationId);
  }

  /**
   * One `SET … PX ttl NX` per reply, each through the connection's auto-pipeline: the writes of
   * every batch a relay handles in one turn (kafkajs hands it several partitions' batches at once)
   * leave in one socket write, per master on a cluster. An explicit pipeline per batch cost a
   * write per partition, the relay's largest single cost in its profile (docs/PERFORMANCE.md, fix 7).
   */
  async writeReplies(writes: readonly ReplyWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const replies = await Promise.all(
      writes.map((w) => this.redis.set(this.keyOf(w.correlationId), w.value, 'PX', this.ttlMs, 'NX')),
    );
    return replies.map((reply) => reply === 'OK');
  }

  readReply(correlationId: string): Promise<Buffer | null> {
    return this.redis.getBuffer(this.keyOf(correlationId));
  }

  async readReplies(correlationIds: readonly string[]): Promise<(Buffer | null)[]> {
    if (correlationIds.length === 0) return [];
    const keys = correlationIds.map((id) => this.keyOf(id));
    if (!this.cluster) return this.redis.mgetBuffer(...keys);
    const out: (Buffer | null)[] = new Array<Buffer | null>(keys.length).fill(null);
    await Promise.all(
      [...groupBySlot(keys).values()].map(async (indexes) => {
        const values = await this.redis.mgetBuffer(...indexes.map((i) => keys[i] as string));
        indexes.forEach((keyIndex, n) => (out[keyIndex] = values[n] ?? null));
      }),
    );
    return out;
  }
}
