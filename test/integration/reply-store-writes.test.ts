import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { loadRedisConnection } from '../../src/config/load-redis-connection';
import { RedisConnections, isCluster, type RedisClient } from '../../src/redis/redis-connections';
import { RedisReplyStore } from '../../src/redis/redis-reply-store';
import type { ReplyWrite } from '../../src/exchange/reply-store';
import { useTestStack } from '../support/test-stack';
import { unique } from '../support/unique';

/**
 * The relay's writes on the gateway's own command connection (auto-pipelined): the batches of
 * several partitions handled in one turn leave in one socket write, and `SET NX` keeps the first.
 */
describe('integration: RedisReplyStore writes', function () {
  this.timeout(60_000);

  let redis: RedisClient;
  let store: RedisReplyStore;
  const prefix = `${unique('store')}:`;

  before(async function () {
    const stack = await useTestStack();
    redis = RedisConnections.fromSettings(loadRedisConnection(stack.redisEnv)).command(unique('store-test'));
    redis.on('error', () => undefined);
    await redis.connect();
    store = new RedisReplyStore(redis, prefix, 30_000);
  });

  after(async function () {
    await redis?.quit().catch(() => undefined);
  });

  const batch = (tag: string, n: number): ReplyWrite[] =>
    Array.from({ length: n }, (_, i) => ({ correlationId: `rg-w.${tag}${i}`, value: Buffer.from(`${tag}${i}`) }));

  it('sends the batches of one turn in one socket write, first write wins, with the TTL', async function () {
    if (isCluster(redis)) this.skip(); // one connection per master there: counted by no single socket
    const socket = (redis as Redis).stream;
    const write = socket.write.bind(socket);
    let writes = 0;
    socket.write = ((...args: Parameters<typeof socket.write>) => {
      writes++;
      return write(...args);
    }) as typeof socket.write;
    try {
      // Three partitions' batches, started in one turn as kafkajs starts them.
      const results = await Promise.all([
        store.writeReplies(batch('a', 3)),
        store.writeReplies(batch('b', 2)),
        store.writeReplies(batch('c', 1)),
      ]);
      expect(results).to.deep.equal([[true, true, true], [true, true], [true]]);
      expect(writes, 'socket writes for six SETs in three batches').to.equal(1);
    } finally {
      socket.write = write;
    }
    const again = await store.writeReplies([
      { correlationId: 'rg-w.a0', value: Buffer.from('late') },
      ...batch('d', 1),
    ]);
    expect(again).to.deep.equal([false, true]);
    expect((await store.readReply('rg-w.a0'))?.toString()).to.equal('a0');
    const ttl = await redis.pttl(`${prefix}reply:rg-w.a0`);
    expect(ttl).to.be.within(1, 30_000);
  });
});
