import type { Cluster, Redis } from 'ioredis';
import { ReplyKeys } from '../protocol/reply-keys';

/** Where a callback stands: waiting for the reply or a retry, delivered, or dead-lettered. */
export type CallbackState = 'pending' | 'delivered' | 'failed';

/** What the gateway records, at request time, about a reply to be POSTed to a callback. */
export interface CallbackHook {
  url: string;
  route: string;
  /** Content type of replies that state none (the route's `replyContentType`). */
  replyContentType: string;
  /** Delivery attempts before dead-lettering. */
  attempts: number;
  /** First retry delay in ms. */
  backoffMs: number;
}

/** A hook with its delivery progress. */
export interface CallbackHookStatus extends CallbackHook {
  state: CallbackState;
  /** Attempts made so far. */
  tries: number;
}

// Updates only an existing hook: a state written after the hook expired must not leave a key without TTL.
const SET_STATE = `
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'st', ARGV[1], 'n', ARGV[2])
redis.call('pexpire', KEYS[1], ARGV[3])
return 1`;

/**
 * Callback hooks in Redis under `<prefix>hook:<correlationId>` (a hash with the async record's
 * TTL, refreshed on every state change). Written by the replica that took the request, before it
 * publishes; read by whichever relay stores the reply, so the hand-off survives that replica.
 */
export class CallbackHookStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {}

  keyOf(correlationId: string): string {
    return new ReplyKeys(this.keyPrefix).hook(correlationId);
  }

  /** Record a hook in state `pending`. */
  async register(correlationId: string, hook: CallbackHook): Promise<void> {
    const key = this.keyOf(correlationId);
    await this.redis
      .multi()
      .hset(key, {
        url: hook.url,
        route: hook.route,
        ct: hook.replyContentType,
        att: String(hook.attempts),
        bo: String(hook.backoffMs),
        st: 'pending',
        n: '0',
      })
      .pexpire(key, this.ttlMs)
      .exec();
  }

  /** Read one hook, or `undefined` when there is none (never asked for, or expired). */
  async read(correlationId: string): Promise<CallbackHookStatus | undefined> {
    return toStatus(await this.redis.hgetall(this.keyOf(correlationId)));
  }

  /** Read several hooks in one round trip (the relay, per batch). */
  async readMany(correlationIds: readonly string[]): Promise<(CallbackHookStatus | undefined)[]> {
    if (correlationIds.length === 0) return [];
    // A cluster pipeline must stay on one node; hooks spread over every slot, so each HGETALL goes
    // on its own there (auto-pipelined per master by the command connection).
    if ((this.redis as { isCluster?: boolean }).isCluster === true) {
      return Promise.all(correlationIds.map(async (id) => toStatus(await this.redis.hgetall(this.keyOf(id)))));
    }
    const pipeline = this.redis.pipeline();
    for (const id of correlationIds) pipeline.hgetall(this.keyOf(id));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, fields]) => {
      if (err) throw err;
      return toStatus(fields as Record<string, string>);
    });
  }

  /** Record progress; a hook that has expired stays gone. */
  async setState(correlationId: string, state: CallbackState, tries: number): Promise<void> {
    await this.redis.eval(SET_STATE, 1, this.keyOf(correlationId), state, String(tries), String(this.ttlMs));
  }
}

function toStatus(fields: Record<string, string>): CallbackHookStatus | undefined {
  const { url, route } = fields;
  if (url === undefined || route === undefined) return undefined;
  const st = fields['st'];
  return {
    url,
    route,
    replyContentType: fields['ct'] ?? 'application/json',
    attempts: Number(fields['att'] ?? 1),
    backoffMs: Number(fields['bo'] ?? 1000),
    state: st === 'delivered' || st === 'failed' ? st : 'pending',
    tries: Number(fields['n'] ?? 0),
  };
}
