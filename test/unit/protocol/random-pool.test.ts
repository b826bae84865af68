import { expect } from 'chai';
import { randomText } from '../../../src/protocol/random-pool';

describe('randomText', () => {
  it('gives the asked number of bytes, in the asked encoding', () => {
    expect(randomText(8, 'hex')).to.match(/^[0-9a-f]{16}$/);
    expect(Buffer.from(randomText(16, 'base64url'), 'base64url')).to.have.length(16);
  });

  it('never hands out the same bytes twice, across pool refills', () => {
    // 3,000 × 16 bytes spans about 12 refills of the 4 KiB pool; a pool reused or rewound repeats.
    const seen = new Set<string>();
    for (let i = 0; i < 3_000; i++) seen.add(randomText(16, 'hex'));
    expect(seen.size).to.equal(3_000);
  });

  it('sees every bit both set and clear (the pool is random, not zero-filled)', () => {
    let or = 0;
    let and = 0xff;
    for (let i = 0; i < 4_096; i++) {
      const byte = parseInt(randomText(1, 'hex'), 16);
      or |= byte;
      and &= byte;
    }
    expect(or).to.equal(0xff);
    expect(and).to.equal(0);
  });
});
