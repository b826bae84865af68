import { expect } from 'chai';
import { encodeEnvelope } from '../../../src/protocol/reply-envelope';
import type { ReplyStore } from '../../../src/exchange/reply-store';
import { GatherRegistry } from '../../../src/exchange/gather-registry';

function store(map: Map<string, Buffer>): ReplyStore {
  return {
    writeReplies: async () => [],
    readReply: async (id) => map.get(id) ?? null,
    readReplies: async (ids) => ids.map((id) => map.get(id) ?? null),
    keyOf: (id) => id,
  };
}

const reply = (text: string) =>
  encodeEnvelope({ meta: { id: 'x', receivedAt: 0, topic: 't', partition: 0, offset: '0' }, body: Buffer.from(text) });

describe('GatherRegistry', () => {
  it('answers once count replies arrived, reading each reply once', async () => {
    const map = new Map([
      ['a#g0-1', reply('one')],
      ['a#g1-5', reply('two')],
    ]);
    const registry = new GatherRegistry(store(map));
    const result = registry.gather('a', 2, 5000);
    expect(registry.notify('a', 'g0-1')).to.equal(true);
    expect(registry.notify('a', 'g0-1')).to.equal(true); // a repeated notification is ignored
    registry.notify('a', 'g1-5');
    const { replies, complete } = await result;
    expect(complete).to.equal(true);
    expect(replies.map((r) => r.body.toString()).sort()).to.deep.equal(['one', 'two']);
    expect(registry.size).to.equal(0);
  });

  it('answers at the deadline with what arrived', async () => {
    const registry = new GatherRegistry(store(new Map([['b#g0-1', reply('only')]])));
    const result = registry.gather('b', 3, 40);
    registry.notify('b', 'g0-1');
    const { replies, complete } = await result;
    expect(complete).to.equal(false);
    expect(replies).to.have.length(1);
    expect(registry.notify('b', 'g0-2')).to.equal(false);
  });
});
