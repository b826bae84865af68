import { expect } from 'chai';
import { groupBySlot, keySlot } from '../../../src/redis/key-slot';
import { ReplyKeys } from '../../../src/protocol/reply-keys';

describe('keySlot (Redis Cluster key hashing)', () => {
  it('computes the slots Redis computes (values from CLUSTER KEYSLOT on Redis 7.0)', () => {
    expect(keySlot('foo')).to.equal(12182);
    expect(keySlot('123456789')).to.equal(12739);
    expect(keySlot('{user1000}.following')).to.equal(3443);
    expect(keySlot('foo{}{bar}')).to.equal(8363);
    expect(keySlot('foo{{bar}}zap')).to.equal(4015);
    expect(keySlot('rg:reply:rg-abc.XYZ#3')).to.equal(10708);
  });

  it('hashes only the hash tag when there is one', () => {
    expect(keySlot('{user1000}.following')).to.equal(keySlot('{user1000}.followers'));
    expect(keySlot('{user1000}.following')).to.equal(keySlot('user1000'));
  });

  it('groups keys by slot, keeping their positions', () => {
    const keys = ['{a}1', 'b', '{a}2', 'b'];
    const groups = [...groupBySlot(keys).values()];
    expect(groups).to.deep.equal([
      [0, 2],
      [1, 3],
    ]);
  });

  it('spreads reply keys over the slots (no hash tag: a cluster shares the reply load over every master)', () => {
    const keys = new ReplyKeys('rg:');
    const slots = new Set(Array.from({ length: 200 }, (_, i) => keySlot(keys.reply(`rg-x.${i}`))));
    expect(slots.size).to.be.greaterThan(190);
  });

  it("hash-tags BullMQ's prefix on a cluster only", () => {
    expect(new ReplyKeys('rg:').bullPrefix()).to.equal('rg-bull');
    expect(new ReplyKeys('rg:').bullPrefix(true)).to.equal('{rg-bull}');
    expect(keySlot('{rg-bull}:webhooks:wait')).to.equal(keySlot('{rg-bull}:webhooks:meta'));
  });
});
