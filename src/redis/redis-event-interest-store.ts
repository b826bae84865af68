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
 * Atomic registration: drop expired waiters; when asked (blocking reads, and `fromReply` routes once
 * the command's reply named the entity), answer from the kept latest state when it satisfies the
 * route (flag byte `1`) and is fresh (its event timestamp ≥ since: 0 for a blocking read, so any
 * state counts): no waiter is added; else refuse past `maxWaiters`, add this waiter and keep the set
 * alive as long as its longest waiter. The relay writes the state before it reads the waiters, and
 * this script reads the state and adds the waiter in one step, so whichever runs second sees the
 * other's write: an event is never missed between the two.
 * KEYS: waiters, state. ARGV: now, expiresAt, member, maxWaiters, ttlMs, readState, since.
 * Returns {0} (full), {1} (registered) or {2, state} (answered by the kept state).
 */
const REGISTER = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if ARGV[6] == '1' then
  local state = redis.call('GET', KEYS[2])
  if state and string.sub(state, 1, 1) == '1' then
    local ts = tonumber(string.match(state, '^1(%d+) ') or '0')
    if ts >= tonumber(ARGV[7]) then return {2, state} end
  end
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return {0} end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return {1}
`;

const COMMAND = 'rgAwaitRegister';

/**
 * Keep an entity's latest state unless the kept one is from a newer event (by Kafka timestamp): a
 * re-read (the rewind after a Redis restart, a second relay group, a relay that took over a
 * partition) never sets an entity back to an older state. Events of one millisecond keep the one
 * written last. KEYS: state. ARGV: record, ttlMs, timestamp. Returns 1 (kept) or 0 (older: left).
 */
const KEEP = `
local cur = redis.call('GET', KEYS[1])
if cur then
  local curTs = tonumber(string.match(cur, '^[01](%d+) ') or '-1')
  if curTs > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

const KEEP_COMMAND = 'rgAwaitKeepState';

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
    redis.defineCommand(KEEP_COMMAND, { numberOfKeys: 1, lua: KEEP });
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
      String(interest.since),
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

  async keepAndFindWaiters(lookups: readonly EventLookup[], now: number): Promise<FoundWaiter[][]> {
    return Promise.all(
      lookups.map(async (l) => {
        // The kept state first (same slot, same node: sent before the read), so a waiter that
        // registers in between finds the state itself and one that registered before is found here.
        const keep = (this.redis as unknown as Record<string, (...args: (string | Buffer)[]) => Promise<unknown>>)[
          KEEP_COMMAND
        ] as (...args: (string | Buffer)[]) => Promise<unknown>;
        const kept =
          l.keep === undefined
            ? undefined
            : keep.call(
                this.redis,
                this.keys.awaitState(l.route, l.entity),
                l.keep.record,
                String(l.keep.ttlMs),
                String(Math.max(0, Math.floor(l.keep.timestamp))),
              );
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
