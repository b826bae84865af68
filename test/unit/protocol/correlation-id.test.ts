import { expect } from 'chai';
import {
  INSTANCE_ID_PATTERN,
  newCorrelationId,
  newInstanceId,
  parseCorrelationId,
} from '../../../src/protocol/correlation-id';

describe('correlation id', () => {
  it('is <instanceId>.<22 base64url characters>', () => {
    const id = newCorrelationId('rg-abc_1');
    expect(id).to.match(/^rg-abc_1\.[A-Za-z0-9_-]{22}$/);
  });

  it('carries 16 random bytes (at least 122 bits) in its random part', () => {
    const N = 2000;
    // Every bit of the 128 must be seen both set and clear: a shorter or constant source would not.
    const seenOne = Buffer.alloc(16);
    const seenZero = Buffer.alloc(16);
    for (let i = 0; i < N; i++) {
      const random = newCorrelationId('i').split('.')[1] as string;
      const bytes = Buffer.from(random, 'base64url');
      expect(bytes.length).to.equal(16);
      expect(bytes.toString('base64url')).to.equal(random);
      for (let b = 0; b < 16; b++) {
        seenOne[b] = (seenOne[b] as number) | (bytes[b] as number);
        seenZero[b] = (seenZero[b] as number) | (~(bytes[b] as number) & 0xff);
      }
    }
    expect(seenOne.equals(Buffer.alloc(16, 0xff))).to.equal(true);
    expect(seenZero.equals(Buffer.alloc(16, 0xff))).to.equal(true);
  });

  it('is unique over 10,000 ids', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(newCorrelationId('inst'));
    expect(ids.size).to.equal(10_000);
  });

  it('parses back into its instance id and random part', () => {
    for (const instanceId of ['a', 'rg-0123456789ab', 'A_b-C', 'x'.repeat(64)]) {
      const id = newCorrelationId(instanceId);
      const parsed = parseCorrelationId(id);
      expect(parsed).to.deep.equal({ instanceId, random: id.slice(instanceId.length + 1) });
    }
  });

  it('parses an id built from a generated instance id', () => {
    const instanceId = newInstanceId();
    expect(parseCorrelationId(newCorrelationId(instanceId))?.instanceId).to.equal(instanceId);
  });

  const foreign: [string, string][] = [
    ['the empty string', ''],
    ['an id without a dot', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['an id starting with the dot', '.AAAAAAAAAAAAAAAAAAAAAA'],
    ['an id ending with the dot', 'inst.'],
    ['a UUID', '3fa85f64-5717-4562-b3fc-2c963f66afa6'],
    ['a random part of 21 characters', 'inst.AAAAAAAAAAAAAAAAAAAAA'],
    ['a random part of 23 characters', 'inst.AAAAAAAAAAAAAAAAAAAAAAA'],
    ['a random part with + and /', 'inst.AAAAAAAAAAAAAAAAAAAA+/'],
    ['a random part with padding', 'inst.AAAAAAAAAAAAAAAAAAAA=='],
    ['an instance id with a dot', 'a.b.AAAAAAAAAAAAAAAAAAAAAA'],
    ['an instance id with a glob character', 'a*.AAAAAAAAAAAAAAAAAAAAAA'],
    ['an instance id with a space', 'a b.AAAAAAAAAAAAAAAAAAAAAA'],
    ['an instance id of 65 characters', `${'x'.repeat(65)}.AAAAAAAAAAAAAAAAAAAAAA`],
    ['an id with a trailing newline', 'inst.AAAAAAAAAAAAAAAAAAAAAA\n'],
  ];
  for (const [what, id] of foreign) {
    it(`rejects ${what}`, () => {
      expect(parseCorrelationId(id)).to.equal(undefined);
    });
  }

  it('generates instance ids that satisfy INSTANCE_ID_PATTERN and differ', () => {
    const a = newInstanceId();
    const b = newInstanceId();
    expect(a).to.match(INSTANCE_ID_PATTERN);
    expect(b).to.match(INSTANCE_ID_PATTERN);
    expect(a).to.not.equal(b);
  });
});
