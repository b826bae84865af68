import { expect } from 'chai';
import type { Message } from 'kafkajs';
import { LingerBatcher } from '../../../src/transport/linger-batcher';

describe('LingerBatcher', () => {
  it('sends everything added within the window as one call, grouped by topic', async () => {
    const calls: { topic: string; messages: Message[] }[][] = [];
    const batcher = new LingerBatcher(async (tm) => {
      calls.push(tm);
    }, 5);
    await Promise.all([
      batcher.add('a', { value: '1' }),
      batcher.add('b', { value: '2' }),
      batcher.add('a', { value: '3' }),
    ]);
    expect(calls).to.have.length(1);
    expect(calls[0]!.map((t) => [t.topic, t.messages.map((m) => m.value)])).to.deep.equal([
      ['a', ['1', '3']],
      ['b', ['2']],
    ]);
  });

  it('flushes at once when the batch is full, and rejects every caller when the send fails', async () => {
    let sends = 0;
    const batcher = new LingerBatcher(
      async () => {
        sends++;
        throw new Error('broker away');
      },
      60_000,
      2,
    );
    const results = await Promise.allSettled([batcher.add('a', { value: '1' }), batcher.add('a', { value: '2' })]);
    expect(sends).to.equal(1);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
  });
});
