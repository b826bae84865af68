import { useTestStack, type RedisShape } from './test-stack';

/**
 * For a suite that needs a Redis of one shape: skips the suite (every test of it, reported as
 * pending) on a test stack of another shape, saying why. Call from the suite's `before`:
 *
 * @example
 * before(async function () {
 *   await onlyOnRedis(this, 'standalone', 'restarts the one Redis server in place');
 * });
 */
export async function onlyOnRedis(ctx: Mocha.Context, shape: RedisShape, why: string): Promise<void> {
  const stack = await useTestStack();
  if (stack.redisShape === shape) return;
  console.log(`      skipped on a Redis ${stack.redisShape}: needs a ${shape} Redis, ${why}`);
  ctx.skip();
}
