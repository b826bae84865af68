import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { silentLogger } from '../../../src/observability/logger';
import { ensureNoEviction } from '../../../src/redis/redis-eviction-check';
import { RedisEvictionPolicyError } from '../../../src/errors/redis-eviction-policy-error';
import { bullPrefix } from '../../../src/webhooks/webhook-queue-names';

function redisWithPolicy(policy: string | Error): Redis {
  return {
    config: () => (policy instanceof Error ? Promise.reject(policy) : Promise.resolve(['maxmemory-policy', policy])),
  } as unknown as Redis;
}

describe('webhook Redis checks', () => {
  it('passes on noeviction', async () => {
    await ensureNoEviction(redisWithPolicy('noeviction'), 'require', silentLogger());
  });

  it('refuses an evicting Redis, naming the setting and the way out', async () => {
    for (const redis of [redisWithPolicy('allkeys-lru'), redisWithPolicy(new Error('CONFIG not allowed'))]) {
      const err = await ensureNoEviction(redis, 'require', silentLogger()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(RedisEvictionPolicyError);
      expect((err as RedisEvictionPolicyError).code).to.equal('RG_REDIS_EVICTION_POLICY');
      expect((err as Error).message)
        .to.include('maxmemory-policy')
        .and.include('REPLYGATE_WEBHOOK_EVICTION_CHECK');
    }
  });

  it('only warns when told to', async () => {
    await ensureNoEviction(redisWithPolicy('volatile-lru'), 'warn', silentLogger());
  });

  it('puts BullMQ outside the gateway key prefix', () => {
    expect(bullPrefix('rg:')).to.equal('rg-bull');
    expect(bullPrefix('a:b::')).to.equal('a:b-bull');
    expect(bullPrefix('')).to.equal('rg-bull');
    expect(bullPrefix('rg:').startsWith('rg:')).to.equal(false);
  });
});
