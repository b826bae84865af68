import { EventEmitter } from 'node:events';
import { expect } from 'chai';
import { connectWithin, type RedisClient } from '../../../src/redis/redis-connections';
import { resolveRedisTarget } from '../../../src/redis/redis-target';
import { StartupError } from '../../../src/errors/startup-errors';

/** A connection that fails its first attempt with `message`, as ioredis reports it. */
function failingWith(message: string): RedisClient {
  const fake = Object.assign(new EventEmitter(), {
    status: 'wait',
    connect: async () => {
      setImmediate(() => fake.emit('error', new Error(message)));
    },
  });
  return fake as unknown as RedisClient;
}

async function startupError(message: string): Promise<StartupError> {
  const target = resolveRedisTarget({
    redisSentinels: ['127.0.0.1:26379'],
    redisSentinelMaster: 'mymaster',
    redisUsername: 'replygate',
    redisPassword: 'data-secret',
    redisSentinelPassword: 'sentinel-secret',
  } as Parameters<typeof resolveRedisTarget>[0]);
  try {
    await connectWithin(failingWith(message), 5_000, target);
  } catch (err) {
    expect(err).to.be.instanceOf(StartupError);
    return err as StartupError;
  }
  throw new Error('connectWithin did not fail');
}

describe('connectWithin: which setting a refused credential names', () => {
  it('the sentinels refusing (ioredis: all sentinels unreachable, last error NOAUTH) names the sentinel credentials', async () => {
    const err = await startupError(
      'All sentinels are unreachable. Retrying from scratch after 100ms. Last error: NOAUTH Authentication required.',
    );
    expect(err.message).to.include('REDIS_SENTINEL_USERNAME');
    expect(err.message).to.include('REDIS_SENTINEL_PASSWORD');
    expect(err.message).not.to.include('REDIS_PASSWORD ');
    expect(err.message).not.to.include('sentinel-secret');
  });

  it('the data node refusing (WRONGPASS) names REDIS_USERNAME / REDIS_PASSWORD', async () => {
    const err = await startupError('WRONGPASS invalid username-password pair or user is disabled.');
    expect(err.message).to.include('REDIS_USERNAME');
    expect(err.message).not.to.include('REDIS_SENTINEL_');
    expect(err.message).not.to.include('data-secret');
  });
});
