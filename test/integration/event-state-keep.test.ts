import { expect } from 'chai';
import { encodeStateRecord, satisfyingState } from '../../src/protocol/event-await';
import { ReplyKeys } from '../../src/protocol/reply-keys';
import type { RedisClient } from '../../src/redis/redis-connections';
import { RedisEventInterestStore } from '../../src/redis/redis-event-interest-store';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import { testRedis } from '../support/test-redis';
import { useTestStack } from '../support/test-stack';
import { unique } from '../support/unique';

/**
 * The kept state of an entity (blocking reads, `reply.…` routes) on the real Redis of the test
 * stack (standalone or cluster): a re-read of older events — the rewind after a Redis restart, a
 * second relay group, a relay that took a partition over — must never set it back.
 */
describe("integration: an entity's kept state never goes back to an older event", function () {
  let redis: RedisClient;
  let store: RedisEventInterestStore;
  let keys: ReplyKeys;
  const prefix = `${unique('keep')}:`;

  before(async function () {
    const stack = await useTestStack();
    redis = await testRedis(stack, 'event-state-keep');
    store = new RedisEventInterestStore(redis, prefix, new RedisReplyStore(redis, prefix, 60_000));
    keys = new ReplyKeys(prefix);
  });

  after(async () => {
    await redis?.quit();
  });

  const keep = (entity: string, status: string, timestamp: number) =>
    store.keepAndFindWaiters(
      [
        {
          route: 'orders',
          entity,
          keep: {
            record: encodeStateRecord(status === 'VALIDATED', timestamp, Buffer.from(status)),
            ttlMs: 60_000,
            timestamp,
          },
        } as Parameters<typeof store.keepAndFindWaiters>[0][number],
      ],
      Date.now(),
    );
  const kept = async (entity: string): Promise<string> =>
    ((await redis.getBuffer(keys.awaitState('orders', entity))) ?? Buffer.alloc(0)).toString();

  it('keeps a newer event over an older one, and not an older one over a newer (a re-read)', async () => {
    const entity = unique('o');
    await keep(entity, 'CREATED', 1_000);
    await keep(entity, 'VALIDATED', 2_000);
    expect(await kept(entity)).to.equal('12000 VALIDATED');
    // The rewind re-reads CREATED after VALIDATED was kept: VALIDATED stays.
    await keep(entity, 'CREATED', 1_000);
    expect(await kept(entity)).to.equal('12000 VALIDATED');
    expect(satisfyingState(await redis.getBuffer(keys.awaitState('orders', entity)))?.toString()).to.equal('VALIDATED');
  });

  it('keeps the last written of two events of the same millisecond', async () => {
    const entity = unique('o');
    await keep(entity, 'CREATED', 5_000);
    await keep(entity, 'VALIDATED', 5_000);
    expect(await kept(entity)).to.equal('15000 VALIDATED');
  });
});
