import type { Redis } from 'ioredis';
import type { ReplyStore, ReplyWrite } from '../exchange/reply-store';
import { ReplyKeys } from '../protocol/reply-keys';

/**
 * Replies in Redis under `<prefix>reply:<correlationId>`, written with `SET … PX ttl NX` so the
 * first reply wins and duplicates from relay re-reads are absorbed.
 */
export class RedisReplyStore implements ReplyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  keyOf(correlationId: string): string {
    return new ReplyKeys(this.keyPrefix).reply(correlationId);
  }

  async writeReplies(writes: readonly ReplyWrite[]): Promise<boolean[]> {
    if (writes.length === 0) return [];
    if (writes.length === 1) {
      const w = writes[0] as ReplyWrite;
      return [(await this.redis.set(this.keyOf(w.correlationId), w.value, 'PX', this.ttlMs, 'NX')) === 'OK'];
    }
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
    return this.redis.mgetBuffer(...correlationIds.map((id) => this.keyOf(id)));
  }
}
