import { expect } from 'chai';
import { PendingRegistry } from '../../../src/exchange/pending-registry';
import { LocalWakeReplyStore } from '../../../src/exchange/local-wake-store';
import type { ReplyStore, ReplyWrite } from '../../../src/exchange/reply-store';

function fakeStore(results: boolean[]): ReplyStore & { writes: ReplyWrite[] } {
  const writes: ReplyWrite[] = [];
  return {
    writes,
    writeReplies: async (w) => {
      writes.push(...w);
      return results;
    },
    readReply: async () => null,
    readReplies: async (ids) => ids.map(() => null),
    keyOf: (id) => `k:${id}`,
  };
}

describe('LocalWakeReplyStore', () => {
  it('delivers a stored reply to a waiter in this process after the write, and swallows its notification once', async () => {
    const registry = new PendingRegistry(async () => null);
    const inner = fakeStore([true]);
    const store = new LocalWakeReplyStore(inner, registry);
    const outcome = registry.park('rg-a.x', 10_000, 'r');
    const value = Buffer.from('reply');
    expect(await store.writeReplies([{ correlationId: 'rg-a.x', value }])).to.deep.equal([true]);
    expect(inner.writes).to.have.length(1);
    expect(await outcome).to.deep.equal({ kind: 'reply', raw: value });
    expect(store.consumeLocalWake('rg-a.x')).to.equal(true);
    expect(store.consumeLocalWake('rg-a.x')).to.equal(false);
  });

  it('never delivers a duplicate (SET NX refused): the first stored reply wins', async () => {
    const registry = new PendingRegistry(async () => null);
    const store = new LocalWakeReplyStore(fakeStore([false]), registry);
    let settled = false;
    const outcome = registry.park('rg-a.y', 10_000, 'r').then((o) => {
      settled = true;
      return o;
    });
    await store.writeReplies([{ correlationId: 'rg-a.y', value: Buffer.from('dup') }]);
    await new Promise((r) => setImmediate(r));
    expect(settled).to.equal(false);
    expect(store.consumeLocalWake('rg-a.y')).to.equal(false);
    registry.cancel('rg-a.y', 'test');
    expect((await outcome).kind).to.equal('cancelled');
  });

  it('leaves replies for requests parked elsewhere to the notification path', async () => {
    const registry = new PendingRegistry(async () => null);
    const store = new LocalWakeReplyStore(fakeStore([true]), registry);
    await store.writeReplies([{ correlationId: 'rg-b.z', value: Buffer.from('x') }]);
    expect(store.consumeLocalWake('rg-b.z')).to.equal(false);
  });

  it('counts the replies it woke in-process, and only those', async () => {
    const registry = new PendingRegistry(async () => null);
    const counts: number[] = [];
    const store = new LocalWakeReplyStore(fakeStore([true, true, false]), registry, (n) => counts.push(n));
    const outcome = registry.park('rg-a.here', 10_000, 'r');
    registry.park('rg-a.dup', 10_000, 'r').catch(() => undefined);
    await store.writeReplies([
      { correlationId: 'rg-a.here', value: Buffer.from('1') },
      { correlationId: 'rg-b.elsewhere', value: Buffer.from('2') },
      { correlationId: 'rg-a.dup', value: Buffer.from('3') },
    ]);
    expect(counts).to.deep.equal([1]);
    expect((await outcome).kind).to.equal('reply');
    registry.cancel('rg-a.dup', 'test');
    await store.writeReplies([{ correlationId: 'rg-b.none', value: Buffer.from('4') }]);
    expect(counts).to.deep.equal([1]);
  });
});
