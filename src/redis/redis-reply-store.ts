import type { ReplyStore, ReplyWrite } from '../exchange/reply-store';
import { ReplyKeys } from '../protocol/reply-keys';
import { groupBySlot } from './key-slot';
import { isCluster, type RedisClient } from './redis-connections';

/**
 * Replies in Redis under `<prefix>reply:<correlationId>`, written with `SET … PX ttl NX` so the
 * first reply wins and duplicates from relay re-reads are absorbed.
 *
 * On a Redis Cluster the reply keys spread over every slot (no hash tag: see docs/ARCHITECTURE.md,
 * "Redis Cluster"), so the batch write is one auto-pipelined SET per reply (ioredis sends one
 * pipeline per master) instead of a MULTI-less pipeline bound to one node, and the resync read is
 * one MGET per slot instead of one MGET across slots (which Redis refuses with CROSSSLOT).
 */
export class RedisReplyStore implements ReplyStore {
  private readonly cluster: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {
    this.cluster = isCluster(redis);
  }

  keyOf(correlationId: string): string {
    return new ReplyKeys(this.keyPrefix).reply(correlationId);
  }

  async writeReplies(writes: readonly ReplyWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    const set = (w: ReplyWrite) => this.redis.set(this.keyOf(w.correlationId), w.value, 'PX', this.ttlMs, 'NX');
    if (writes.length === 1) return [(await set(writes[0] as ReplyWrite)) === 'OK'];
    if (this.cluster) return (await Promise.all(writes.map(set))).map((reply) => reply === 'OK');
    const pipeline = this.redis.pipeline();
    for (const w of writes) pipeline.set(this.keyOf(w.correlationId), w.value, 'PX', this.ttlMs, 'NX');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, reply]) => {
      if (err) throw err;
      return reply === 'OK';
    });
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
