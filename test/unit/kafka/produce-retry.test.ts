import { expect } from 'chai';
import type { Message } from 'kafkajs';
import { ProduceBatcher, type ProduceBatching, type TopicSender } from '../../../src/kafka/produce-batcher';

interface Call {
  group: string | undefined;
  values: unknown[];
  settle: (err?: Error) => void;
}

function heldSender(): { send: TopicSender; calls: Call[] } {
  const calls: Call[] = [];
  const send: TopicSender = (_topic, messages: Message[], group) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ group, values: messages.map((m) => m.value), settle: (err) => (err ? reject(err) : resolve()) });
    });
  return { send, calls };
}

class Passing extends Error {
  readonly retriable = true;
}
class Final extends Error {
  readonly retriable = false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wait until `n` calls were made (or fail after 2 s). */
async function calls(list: Call[], n: number): Promise<void> {
  const until = Date.now() + 2000;
  while (list.length < n) {
    if (Date.now() > until) throw new Error(`expected ${n} sends, saw ${list.length}`);
    await sleep(2);
  }
}

const retrying: ProduceBatching = {
  lingerMs: 0,
  maxInFlight: 2,
  maxBatch: 500,
  // The group is the message's first character, as a partition leader would be.
  prepare: (_topic, message) => ({ group: String(message.value).slice(0, 1), message }),
  retry: { isRetriable: (err) => err instanceof Passing, initialBackoffMs: 5, maxBackoffMs: 20 },
};

describe('ProduceBatcher: one send per group, retried until the deadline', () => {
  it('sends a batch as one send per group, all at once', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, retrying);
    const all = ['a1', 'b1', 'a2'].map((v) => batcher.add('t', { value: v }, Date.now() + 5000));
    await calls(sent, 2);
    expect(sent.map((c) => [c.group, c.values])).to.deep.equal([
      ['a', ['a1', 'a2']],
      ['b', ['b1']],
    ]);
    sent.forEach((c) => c.settle());
    await Promise.all(all);
  });

  it('a group that failed for a passing reason is sent again, alone, and its callers resolve', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, retrying);
    const all = ['a1', 'b1', 'a2'].map((v) => batcher.add('t', { value: v }, Date.now() + 5000));
    await calls(sent, 2);
    sent[0]!.settle(); // a: written
    sent[1]!.settle(new Passing('leader not reachable')); // b: its leader died
    await calls(sent, 3);
    expect(sent[2]!.values, 'only the failed group is sent again').to.deep.equal(['b1']);
    sent[2]!.settle(new Passing('still no leader'));
    await calls(sent, 4);
    expect(sent[3]!.values).to.deep.equal(['b1']);
    sent[3]!.settle(); // the new leader took it
    await Promise.all(all);
  });

  it('a group that failed for good rejects at once', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, retrying);
    const p = batcher.add('t', { value: 'a1' }, Date.now() + 5000);
    await calls(sent, 1);
    const t = Date.now();
    sent[0]!.settle(new Final('TOPIC_AUTHORIZATION_FAILED'));
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Final);
    expect(Date.now() - t).to.be.lessThan(50);
    await sleep(40);
    expect(sent, 'not sent again').to.have.length(1);
  });

  it('stops at the deadline: keeps retrying while there is time, then rejects, never later than the deadline', async () => {
    const sent: number[] = [];
    const send: TopicSender = () => {
      sent.push(Date.now());
      return Promise.reject(new Passing('no leader'));
    };
    const batcher = new ProduceBatcher(send, retrying);
    const deadline = Date.now() + 300;
    const err = await batcher.add('t', { value: 'a1' }, deadline).then(
      () => undefined,
      (e: unknown) => e,
    );
    const endedAt = Date.now();
    expect(err, 'rejected').to.not.equal(undefined);
    expect(sent.length, 'tried again and again (backoff capped at 20 ms)').to.be.greaterThan(8);
    expect(sent.at(-1)!, 'last send before the deadline').to.be.lessThan(deadline);
    expect(endedAt, 'settled by its deadline').to.be.lessThan(deadline + 30);
  });

  it('does not retry a message added without a deadline (nothing bounds it)', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, retrying);
    const p = batcher.add('t', { value: 'a1' });
    await calls(sent, 1);
    sent[0]!.settle(new Passing('no leader'));
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Passing);
  });

  it('without retry settings a failed send rejects its callers (the previous behaviour)', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, { lingerMs: 0, maxInFlight: 1, maxBatch: 500 });
    const p = batcher.add('t', { value: 'a1' }, Date.now() + 5000);
    await calls(sent, 1);
    sent[0]!.settle(new Passing('no leader'));
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Passing);
  });

  it('flush sends messages that are waiting out a backoff (shutdown)', async () => {
    const { send, calls: sent } = heldSender();
    const batcher = new ProduceBatcher(send, {
      ...retrying,
      retry: { ...retrying.retry!, initialBackoffMs: 10_000, maxBackoffMs: 10_000 },
    });
    const p = batcher.add('t', { value: 'a1' }, Date.now() + 60_000);
    await calls(sent, 1);
    sent[0]!.settle(new Passing('no leader'));
    await sleep(10);
    expect(sent).to.have.length(1);
    batcher.flush();
    expect(sent).to.have.length(2);
    sent[1]!.settle();
    await p;
  });
});
