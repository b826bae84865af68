import { keysWithoutTtl } from './key-ttl-audit';
import { stopTestStack, useTestStack } from './test-stack';

// Like ioredis' test suite: an unhandled rejection anywhere is a test failure, not a warning.
process.on('unhandledRejection', (reason) => {
  throw reason;
});

/** Set once a test of the integration tier ran: only then is there a test Redis to audit. */
let integrationRan = false;

/**
 * With REPLYGATE_TEST_SHUFFLE_SEED set, run the suites and the tests of each suite in an order
 * drawn from that seed (printed, to replay a failure): a test that needs another to run first
 * fails. Runs as the root suite's first hook, after every file is loaded and before any test:
 * mocha reads `suite.tests` and `suite.suites` only when it reaches them.
 */
function shuffleSuites(root: Mocha.Suite, seed: number): void {
  let state = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: small, seedable, good enough to deal test order.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const shuffle = <T>(items: T[]) => {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
  };
  const visit = (suite: Mocha.Suite) => {
    shuffle(suite.tests);
    shuffle(suite.suites);
    suite.suites.forEach(visit);
  };
  visit(root);
}

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    const seed = process.env['REPLYGATE_TEST_SHUFFLE_SEED'];
    if (seed === undefined || seed === '') return;
    const value = seed === 'random' ? Math.floor(Math.random() * 0xffff_ffff) : Number(seed);
    console.log(`test order shuffled with REPLYGATE_TEST_SHUFFLE_SEED=${value}`);
    shuffleSuites(this.test!.parent!, value);
  },
  afterEach(this: Mocha.Context): void {
    if (this.currentTest?.file?.includes('/test/integration/')) integrationRan = true;
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60_000);
    try {
      if (integrationRan) {
        // Key hygiene over every prefix every test used (replies, streamed parts, gathers, async
        // records, idempotency, rate limits, webhook state): nothing the gateway writes may live forever.
        const { scanned, withoutTtl } = await keysWithoutTtl(await useTestStack());
        if (withoutTtl.length > 0) {
          throw new Error(
            `${withoutTtl.length} of ${scanned} keys in the test Redis have no TTL: ${withoutTtl.slice(0, 20).join(', ')}`,
          );
        }
      }
    } finally {
      await stopTestStack();
    }
  },
};
