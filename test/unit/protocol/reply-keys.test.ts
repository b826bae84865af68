import { expect } from 'chai';
import { gatheredId, parseStoredId, partId, ReplyKeys, storedIdOf } from '../../../src/protocol/reply-keys';

describe('reply keys', () => {
  it('round-trips a streamed part, a gathered reply and a whole reply through parseStoredId', () => {
    expect(parseStoredId(partId('r1.abc', 3))).to.deep.equal({ kind: 'part', correlationId: 'r1.abc', seq: 3 });
    expect(parseStoredId(gatheredId('r1.abc', 2, '17'))).to.deep.equal({
      kind: 'gathered',
      correlationId: 'r1.abc',
      suffix: 'g2-17',
    });
    expect(storedIdOf('r1.abc', 'g2-17')).to.equal(gatheredId('r1.abc', 2, '17'));
    expect(parseStoredId('r1.abc')).to.deep.equal({ kind: 'reply', correlationId: 'r1.abc' });
  });

  it('builds every key under the prefix, and escapes glob characters in the keyspace pattern', () => {
    const keys = new ReplyKeys('rg:');
    expect(keys.reply('r1.abc#3')).to.equal('rg:reply:r1.abc#3');
    expect(keys.idempotency('h')).to.equal('rg:idem:h');
    expect(keys.asyncRecord('id')).to.equal('rg:async:id');
    expect(keys.hook('id')).to.equal('rg:hook:id');
    expect(keys.rateLimit('a b')).to.equal('rg:ratelimit:a%20b');
    expect(keys.bullPrefix()).to.equal('rg-bull');
    expect(keys.keyspaceChannelPrefix(2)).to.equal('__keyspace@2__:rg:reply:');
    expect(new ReplyKeys('t*[x]:').keyspacePattern(0, 'r?1')).to.equal('__keyspace@0__:t\\*\\[x\\]:reply:r\\?1.*');
  });
});
