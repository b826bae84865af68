import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ReplyKeys } from '../protocol/reply-keys';

/** The result of claiming an idempotency key. */
export type IdempotencyClaim =
  // A mismatch carries no id: the first request's correlation id is never shown to a differing request.
  { kind: 'claimed' } | { kind: 'existing'; correlationId: string } | { kind: 'mismatch' };

/** Allowed `Idempotency-Key` values: printable, no spaces, at most 255 characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * Idempotency keys in Redis: `<prefix>idem:<sha256(scope, key)>` → `<fingerprint> <correlationId>`,
 * where the scope is the route and the caller (`idempotencyScope()`),
 * claimed with `SET NX` so the first attempt wins across every replica, for as long as its reply
 * is kept. A retry with the same key and fingerprint follows the first attempt's correlation id;
 * the same key with another request is a mismatch.
 */
export class RedisIdempotencyStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  keyOf(scope: string, key: string): string {
    return new ReplyKeys(this.keyPrefix).idempotency(
      createHash('sha256').update(scope).update('\0').update(key).digest('base64url'),
    );
  }

  async claim(scope: string, key: string, fingerprint: string, correlationId: string): Promise<IdempotencyClaim> {
    const redisKey = this.keyOf(scope, key);
    const value = `${fingerprint} ${correlationId}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await this.redis.set(redisKey, value, 'PX', this.ttlMs, 'NX')) === 'OK') return { kind: 'claimed' };
      const existing = await this.redis.get(redisKey);
      if (existing === null) continue; // expired in between: claim again
      const space = existing.indexOf(' ');
      const existingId = existing.slice(space + 1);
      return existing.slice(0, space) === fingerprint
        ? { kind: 'existing', correlationId: existingId }
        : { kind: 'mismatch' };
    }
    return { kind: 'claimed' };
  }

  /** Give a claim back (the request was never published), only if it is still ours. */
  async release(scope: string, key: string, fingerprint: string, correlationId: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.keyOf(scope, key), `${fingerprint} ${correlationId}`);
  }
}

/** Fingerprint of a request for idempotency: method, path with query, and body. */
export function requestFingerprint(method: string, url: string, body: Buffer): string {
  return createHash('sha256').update(method).update('\0').update(url).update('\0').update(body).digest('base64url');
}
