import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { ReplygateError } from '../errors/replygate-error';
import { ReplyKeys } from '../protocol/reply-keys';

/** What the gateway remembers about a request whose reply may be fetched later. */
export interface AsyncReplyRecord {
  route: string;
  replyContentType: string;
  /**
   * The caller that made the request (`callerKey()`: `p:<principal>` or `ip:<address>`). Only
   * that caller may add a retrieval token to the record (an idempotent retry of its own request).
   */
  owner: string;
}

/**
 * Record (or add a token to) a request's record, only if it has no owner yet or the same owner.
 * `bound` stays `1` so replicas of an older version, which honoured tokens only on bound records,
 * also demand one during a rolling upgrade.
 */
const REGISTER_SCRIPT = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'route', ARGV[2], 'ct', ARGV[3], 'owner', ARGV[1], 'bound', '1', ARGV[4], '1')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

/**
 * Records of requests answered `202` (asked async, or timed out on a route that answers 202), in
 * Redis under `<prefix>async:<correlationId>` (a hash with a TTL as long as the reply's). A
 * record is what makes `GET /v1/replies/<id>` answer at all: an id without one is unknown (404).
 *
 * Every record, authenticated or anonymous, is fetched only with a retrieval token returned in the
 * 202 (stored only as a SHA-256 hash): correlation ids show up in logs, headers and traces, so
 * the id alone must never be a bearer capability. Tokens are added only by the record's owner.
 */
export class AsyncReplyRegistry {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  keyOf(correlationId: string): string {
    return new ReplyKeys(this.keyPrefix).asyncRecord(correlationId);
  }

  /**
   * Record a request (or add a token to an existing record of the same owner); returns the new
   * retrieval token. Throws when the record belongs to another caller, which the idempotency
   * scope (route and caller) should make impossible: it is the last line, not the first.
   */
  async register(correlationId: string, record: AsyncReplyRecord): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    const added = await this.redis.eval(
      REGISTER_SCRIPT,
      1,
      this.keyOf(correlationId),
      record.owner,
      record.route,
      record.replyContentType,
      `t:${hashToken(token)}`,
      String(this.ttlMs),
    );
    if (added !== 1) {
      throw new ReplygateError('RG_INTERNAL', "Refused to add a retrieval token to another caller's async record", {
        correlationId,
      });
    }
    return token;
  }

  /**
   * Look a record up for a caller presenting `token` (may be undefined). Returns `undefined` when
   * there is no record, or when the token is missing or wrong — the same answer, so a guessed id
   * tells nothing. Tokens are compared as hashes, in constant time.
   */
  async lookup(correlationId: string, token: string | undefined): Promise<AsyncReplyRecord | undefined> {
    const fields = await this.redis.hgetall(this.keyOf(correlationId));
    if (fields['route'] === undefined || token === undefined) return undefined;
    const wanted = Buffer.from(`t:${hashToken(token)}`);
    let match = false;
    for (const field of Object.keys(fields)) {
      // Every candidate is compared, so timing does not tell how many tokens the record holds before a match.
      if (field.length === wanted.length && timingSafeEqual(Buffer.from(field), wanted)) match = true;
    }
    if (!match) return undefined;
    return {
      route: fields['route'],
      replyContentType: fields['ct'] ?? 'application/json',
      owner: fields['owner'] ?? '',
    };
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
