import { expect } from 'chai';
import { pino } from 'pino';
import type { ReplyStore } from '../../../src/exchange/reply-store';
import { GatherRegistry } from '../../../src/exchange/gather-registry';
import { PendingRegistry, type PendingOutcome } from '../../../src/exchange/pending-registry';
import { ReplyWaiters } from '../../../src/exchange/reply-waiters';
import { StreamRegistry } from '../../../src/exchange/stream-registry';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';

/** A store whose batch reads fail `failures` times (a reconnecting connection), then answer from `map`. */
function flakyStore(map: Map<string, Buffer>, failures: number) {
  const state = { reads: 0 };
  const store: ReplyStore = {
    writeReplies: async () => [],
    readReply: async (id) => map.get(id) ?? null,
    readReplies: async (ids) => {
      state.reads += 1;
      if (state.reads <= failures) throw new Error('Connection is closed.');
      return ids.map((id) => map.get(id) ?? null);
    },
    keyOf: (id) => id,
  };
  return { store, state };
}

function waiters(store: ReplyStore, registry: PendingRegistry): ReplyWaiters {
  return new ReplyWaiters({
    registry,
    streams: new StreamRegistry(store),
    gathers: new GatherRegistry(store),
    store,
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    log: pino({ level: 'silent' }),
    resyncRetryMs: [1, 2, 5],
  });
}

describe('ReplyWaiters.resync', () => {
  it('keeps re-reading while the store connection is still reconnecting, and delivers what it finds', async () => {
    // A Redis restart: the subscription came back before the command connection. More failures
    // than the retry schedule has steps (it gave up after 4, leaving the request to its deadline).
    const map = new Map([['a', Buffer.from('reply a')]]);
    const { store, state } = flakyStore(map, 8);
    const registry = new PendingRegistry((id) => store.readReply(id));
    const parked: Promise<PendingOutcome> = registry.park('a', 60_000, 'r');
    await waiters(store, registry).resync();
    expect(state.reads).to.equal(9);
    const outcome = await parked;
    expect(outcome.kind).to.equal('reply');
    registry.cancelAll('test-end');
  });

  it('stops re-reading once none of its requests is pending', async () => {
    const { store, state } = flakyStore(new Map(), Number.POSITIVE_INFINITY);
    const registry = new PendingRegistry((id) => store.readReply(id));
    const parked = registry.park('b', 60_000, 'r');
    const resync = waiters(store, registry).resync();
    await new Promise((r) => setTimeout(r, 30));
    registry.cancel('b', 'client went away');
    await resync;
    expect((await parked).kind).to.equal('cancelled');
    const reads = state.reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(state.reads).to.equal(reads);
    expect(reads).to.be.greaterThan(3);
  });
});
