import { expect } from 'chai';
import type { Message } from 'kafkajs';
import { ProduceBatcher, type TopicSender } from '../../../src/kafka/produce-batcher';

interface Call {
  topic: string;
  values: unknown[];
  settle: (err?: Error) => void;
}

/** A sender whose sends stay in flight until the test settles them. */
function heldSender(): { send: TopicSender; calls: Call[] } {
  const calls: Call[] = [];
  const send: TopicSender = (topic, messages: Message[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ topic, values: messages.map((m) => m.value), settle: (err) => (err ? reject(err) : resolve()) });
    });
  return { send, calls };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ProduceBatcher', () => {
  describe('adaptive (one send in flight per topic, no linger)', () => {
    const adaptive = { lingerMs: 0, maxInFlight: 1, maxBatch: 500 };

    it('sends a lone message at the end of the turn, without waiting for a timer', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const sent = batcher.add('a', { value: '1' });
      expect(calls).to.have.length(0);
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1']]);
      calls[0]!.settle();
      await sent;
    });

    it('gathers what arrives while a send is in flight into the next single send', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const first = batcher.add('a', { value: '1' });
      await turn();
      const later = [batcher.add('a', { value: '2' }), batcher.add('a', { value: '3' })];
      await turn();
      await turn();
      expect(calls).to.have.length(1); // held back behind the in-flight send
      calls[0]!.settle();
      await first;
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1'], ['2', '3']]);
      calls[1]!.settle();
      await Promise.all(later);
    });

    it('keeps topics apart: a refused topic fails only its own callers', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const good = batcher.add('good', { value: 'g' });
      const bad = batcher.add('bad', { value: 'b' });
      await turn();
      expect(calls.map((c) => [c.topic, c.values])).to.deep.equal([
        ['good', ['g']],
        ['bad', ['b']],
      ]);
      calls[1]!.settle(new Error('UNKNOWN_TOPIC_OR_PARTITION'));
      calls[0]!.settle();
      const results = await Promise.allSettled([good, bad]);
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected']);
    });

    it('rejects every caller of a failed batch and goes on sending afterwards', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const a = batcher.add('a', { value: '1' });
      const b = batcher.add('a', { value: '2' });
      await turn();
      calls[0]!.settle(new Error('broker away'));
      const results = await Promise.allSettled([a, b]);
      expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
      const c = batcher.add('a', { value: '3' });
      await turn();
      expect(calls.map((x) => x.values)).to.deep.equal([['1', '2'], ['3']]);
      calls[1]!.settle();
      await c;
    });

    it('splits at maxBatch', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, { ...adaptive, maxBatch: 2 });
      const all = ['1', '2', '3'].map((v) => batcher.add('a', { value: v }));
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1', '2']]);
      calls[0]!.settle();
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1', '2'], ['3']]);
      calls[1]!.settle();
      await Promise.all(all);
    });

    it('drops, unsent, a message whose request expired while it waited behind an unacknowledged send', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const stuck = batcher.add('a', { value: '1' });
      await turn();
      const stale = Promise.allSettled([batcher.add('a', { value: 'stale' }, Date.now() + 20)]);
      const fresh = batcher.add('a', { value: 'fresh' }, Date.now() + 60_000);
      await new Promise((r) => setTimeout(r, 40)); // the broker is away longer than stale's deadline
      calls[0]!.settle();
      await stuck;
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1'], ['fresh']]);
      const [staleResult] = await stale;
      expect(staleResult.status).to.equal('rejected');
      expect(String((staleResult as PromiseRejectedResult).reason)).to.match(/expired while queued/);
      calls[1]!.settle();
      await fresh;
    });

    it('flush sends what is queued even behind an in-flight send (shutdown)', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, adaptive);
      const first = batcher.add('a', { value: '1' });
      await turn();
      const second = batcher.add('a', { value: '2' });
      batcher.flush();
      expect(calls.map((c) => c.values)).to.deep.equal([['1'], ['2']]);
      calls.forEach((c) => c.settle());
      await Promise.all([first, second]);
    });
  });

  describe('adaptive with two sends in flight (REPLYGATE_PRODUCER_MAX_IN_FLIGHT=2)', () => {
    const two = { lingerMs: 0, maxInFlight: 2, maxBatch: 500 };

    it('keeps two sends in flight at once; a third request waits and batches with what follows', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, two);
      const first = batcher.add('a', { value: '1' });
      await turn();
      const second = batcher.add('a', { value: '2' });
      await turn();
      // The second went out while the first was still unacknowledged: two in flight.
      expect(calls.map((c) => c.values)).to.deep.equal([['1'], ['2']]);
      const held = [batcher.add('a', { value: '3' }), batcher.add('a', { value: '4' })];
      await turn();
      await turn();
      expect(calls, 'a third send while two are in flight').to.have.length(2);
      calls[1]!.settle();
      await second;
      await turn();
      expect(calls.map((c) => c.values)).to.deep.equal([['1'], ['2'], ['3', '4']]);
      calls[0]!.settle();
      calls[2]!.settle();
      await Promise.all([first, ...held]);
    });
  });

  describe('linger', () => {
    it('waits lingerMs and sends everything of that window as one call per topic', async () => {
      const { send, calls } = heldSender();
      const batcher = new ProduceBatcher(send, { lingerMs: 20, maxInFlight: Infinity, maxBatch: 500 });
      const sent = [
        batcher.add('a', { value: '1' }),
        batcher.add('b', { value: '2' }),
        batcher.add('a', { value: '3' }),
      ];
      await turn();
      expect(calls).to.have.length(0);
      await new Promise((r) => setTimeout(r, 40));
      expect(calls.map((c) => [c.topic, c.values])).to.deep.equal([
        ['a', ['1', '3']],
        ['b', ['2']],
      ]);
      calls.forEach((c) => c.settle());
      await Promise.all(sent);
    });
  });
});
