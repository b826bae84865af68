import type {
  EventInterestStore,
  EventLookup,
  AnsweredWaiter,
  EventRelayStore,
  FoundWaiter,
  InterestOutcome,
} from '../exchange/event-interest-store';
import type { ReplyStore } from '../exchange/reply-store';
import type { RedisClient } from './redis-connections';
import { interestMember, parseInterestMember, satisfyingState, type EventInterest } from '../protocol/event-await';
import { decodeEnvelope, encodeEnvelope } from '../protocol/reply-envelope';
import { partId, ReplyKeys } from '../protocol/reply-keys';

/**
 * Atomic registration: drop expired waiters; for a blocking read, answer from the kept latest state
 * when it satisfies the route (flag byte `1`: no waiter is added); else refuse past `maxWaiters`,
 * add this waiter and keep the set alive as long as its longest waiter. The relay writes the state
 * before it reads the waiters, and this script reads the state and adds the waiter in one step, so
 * whichever runs second sees the other's write: an event is never missed between the two.
 * KEYS: waiters, state. ARGV: now, expiresAt, member, maxWaiters, ttlMs, readState.
 * Returns {0} (full), {1} (registered) or {2, state} (answered by the kept state).
 */
const REGISTER = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if ARGV[6] == '1' then
  local state = redis.call('GET', KEYS[2])
  if state and string.sub(state, 1, 1) == '1' then return {2, state} end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {0} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {1}
`;

const COMMAND = 'rgAwaitRegister';

/**
 * Keep a re-read state only over an older one: every state is written with the entity's remaining
 * lifetime from its event's time (the live relay's events are current: the full `stateTtlMs`), so a
 * longer remaining TTL means a newer event. A missing key (PTTL -2) is written.
 * KEYS: state. ARGV: record, ttlMs.
 */
const KEEP_IF_NEWER = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

const KEEP_COMMAND = 'rgAwaitKeepIfNewer';

type RegisterCommand = (...args: string[]) => Promise<unknown>;

/** Kept past the waiter's expiry, so a relay a little behind still finds (and skips) it. */
const WAITERS_GRACE_MS = 1000;

/**
 * Waiters of event routes in Redis (see {@link REGISTER}); a kept state that already answers a
 * blocking read is written as the waiter's reply through the reply store (`SET NX`), so it wakes the
 * request by the same keyspace notification as any reply.
 */
export class RedisEventInterestStore implements EventInterestStore, EventRelayStore {
  private readonly keys: ReplyKeys;

  constructor(
    private readonly redis: RedisClient,
    keyPrefix: string,
    private readonly replies: ReplyStore,
  ) {
    this.keys = new ReplyKeys(keyPrefix);
    // EVALSHA after the first call (ioredis loads the script once per connection).
    redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: REGISTER });
    redis.defineCommand(KEEP_COMMAND, { numberOfKeys: 1, lua: KEEP_IF_NEWER });
  }

  async register(correlationId: string, interest: EventInterest): Promise<InterestOutcome> {
    const now = Date.now();
    const command = (this.redis as unknown as Record<string, RegisterCommand>)[`${COMMAND}Buffer`] as RegisterCommand;
    const result = (await command.call(
      this.redis,
      this.keys.awaitWaiters(interest.route, interest.entity),
      this.keys.awaitState(interest.route, interest.entity),
      String(now),
      String(interest.expiresAt),
      interestMember(correlationId, interest.since),
      String(interest.maxWaiters),
      String(Math.max(1, interest.expiresAt - now) + WAITERS_GRACE_MS),
      interest.readState ? '1' : '0',
    )) as [number, Buffer | null];
    if (result[0] === 0) return { kind: 'full', limit: interest.maxWaiters };
    if (result[0] === 1) return { kind: 'registered' };
    const envelope = satisfyingState(result[1] ?? null);
    if (envelope === undefined) return { kind: 'registered' };
    const { meta, body } = decodeEnvelope(envelope);
    if (!interest.stream) {
      await this.replies.writeReplies([
        { correlationId, value: encodeEnvelope({ meta: { ...meta, id: correlationId }, body }) },
      ]);
      return { kind: 'answered' };
    }
    // A streamed route gets the kept state as its only part, then the end-of-stream marker.
    await this.replies.writeReplies([
      {
        correlationId: partId(correlationId, 0),
        value: encodeEnvelope({ meta: { ...meta, id: correlationId, seq: 0 }, body }),
      },
      {
        correlationId: partId(correlationId, 1),
        value: encodeEnvelope({ meta: { ...meta, id: correlationId, seq: 1, final: true }, body: Buffer.alloc(0) }),
      },
    ]);
    return { kind: 'answered' };
  }

  // Every method below sends one command per key, never a pipeline or MULTI: the keys of different
  // entities sit in different slots of a Redis Cluster (one hash tag per entity), and the command
  // connection auto-pipelines what is sent in one turn (one round trip per node, in call order).
  async nextSeqs(waiters: readonly AnsweredWaiter[], counts: readonly number[], ttlMs: number): Promise<number[]> {
    return Promise.all(
      waiters.map(async (w, i) => {
        const key = this.keys.awaitSeqs(w.route, w.entity);
        const [count] = await Promise.all([
          this.redis.hincrby(key, w.correlationId, counts[i] ?? 1),
          this.redis.pexpire(key, ttlMs),
        ]);
        return Number(count) - (counts[i] ?? 1);
      }),
    );
  }

  async forgetWaiters(answered: readonly AnsweredWaiter[]): Promise<void> {
    await Promise.all(
      answered.map((a) =>
        this.redis.zrem(this.keys.awaitWaiters(a.route, a.entity), interestMember(a.correlationId, a.since)),
      ),
    );
  }

  private keep(key: string, keep: NonNullable<EventLookup['keep']>): Promise<unknown> {
    if (keep.ifNewer !== true) return this.redis.set(key, keep.record, 'PX', keep.ttlMs);
    const command = (this.redis as unknown as Record<string, RegisterCommand>)[KEEP_COMMAND] as (
      ...args: (string | Buffer)[]
    ) => Promise<unknown>;
    return command.call(this.redis, key, keep.record, String(keep.ttlMs));
  }

  async keepAndFindWaiters(lookups: readonly EventLookup[], now: number): Promise<FoundWaiter[][]> {
    return Promise.all(
      lookups.map(async (l) => {
        // The kept state first (same slot, same node: sent before the read), so a waiter that
        // registers in between finds the state itself and one that registered before is found here.
        const kept = l.keep === undefined ? undefined : this.keep(this.keys.awaitState(l.route, l.entity), l.keep);
        const members = this.redis.zrangebyscore(this.keys.awaitWaiters(l.route, l.entity), now, '+inf');
        await kept;
        return (await members).flatMap((m) => {
          const parsed = parseInterestMember(m);
          return parsed === undefined ? [] : [parsed];
        });
      }),
    );
  }
}
