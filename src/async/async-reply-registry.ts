import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What the gateway remembers about a request whose reply may be fetched later. */
export interface AsyncReplyRecord {
  route: string;
  replyContentType: string;
  /** Whether fetching needs a retrieval token (the request was authenticated). */
  bound: boolean;
}

/**
 * Records of requests answered `202` (asked async, or timed out on a route that answers 202), in
 * Redis under `<prefix>async:<correlationId>` (a hash with a TTL as long as the reply's). A
 * record is what makes `GET /v1/replies/<id>` answer at all: an id without one is unknown (404).
 *
 * When the request was authenticated, the record is bound: fetching needs a retrieval token
 * returned in the 202 (stored only as a SHA-256 hash), so the id alone is no bearer capability.
 */
export class AsyncReplyRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  keyOf(correlationId: string): string {
    return `${this.keyPrefix}async:${correlationId}`;
  }

  /** Record a request (or add a token to an existing record); returns the new retrieval token. */
  async register(correlationId: string, record: AsyncReplyRecord): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    const key = this.keyOf(correlationId);
    await this.redis
      .multi()
      .hset(key, {
        route: record.route,
        ct: record.replyContentType,
        bound: record.bound ? '1' : '0',
        [`t:${hashToken(token)}`]: '1',
      })
      .pexpire(key, this.ttlMs)
      .exec();
    return token;
  }

  /**
   * Look a record up for a caller presenting `token` (may be undefined). Returns `undefined` when
   * there is no record, or when it is bound and the token does not match — the same answer, so a
   * guessed id tells nothing.
   */
  async lookup(correlationId: string, token: string | undefined): Promise<AsyncReplyRecord | undefined> {
    const fields = await this.redis.hgetall(this.keyOf(correlationId));
    if (fields['route'] === undefined) return undefined;
    const bound = fields['bound'] === '1';
    if (bound) {
      if (token === undefined) return undefined;
      const wanted = Buffer.from(`t:${hashToken(token)}`);
      const match = Object.keys(fields).some(
        (f) => f.length === wanted.length && timingSafeEqual(Buffer.from(f), wanted),
      );
      if (!match) return undefined;
    }
    return { route: fields['route'], replyContentType: fields['ct'] ?? 'application/json', bound };
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
