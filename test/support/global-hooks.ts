import { stopTestStack } from './test-stack';

// Like ioredis' test suite: an unhandled rejection anywhere is a test failure, not a warning.
process.on('unhandledRejection', (reason) => {
  throw reason;
});

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    await stopTestStack();
  },
};
