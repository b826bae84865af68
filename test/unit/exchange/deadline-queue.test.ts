import { expect } from 'chai';
import { DeadlineQueue, type Deadlined } from '../../../src/exchange/deadline-queue';
import { PendingRegistry } from '../../../src/exchange/pending-registry';

class Item implements Deadlined {
  deadline = 0;
  older: Deadlined | undefined = undefined;
  newer: Deadlined | undefined = undefined;
  lane: Deadlined['lane'] = undefined;
  constructor(readonly name: string) {}
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeadlineQueue', () => {
  it('expires the items of one length in the order they were added, each once, not before its deadline', async () => {
    const expired: { name: string; lateMs: number }[] = [];
    const queue = new DeadlineQueue<Item>((item) =>
      expired.push({ name: item.name, lateMs: performance.now() - item.deadline }),
    );
    const a = new Item('a');
    const b = new Item('b');
    queue.add(a, 30);
    await sleep(10);
    queue.add(b, 30);
    expect(queue.size).to.equal(2);
    await sleep(60);
    expect(expired.map((e) => e.name)).to.deep.equal(['a', 'b']);
    // libuv may fire a millisecond early; never more.
    for (const e of expired) expect(e.lateMs).to.be.greaterThan(-1.5);
    expect(queue.size).to.equal(0);
    expect(a.lane).to.equal(undefined);
  });

  it('keeps lengths apart: a short deadline added after a long one expires first', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<Item>((item) => expired.push(item.name));
    queue.add(new Item('long'), 60);
    queue.add(new Item('short'), 10);
    await sleep(30);
    expect(expired).to.deep.equal(['short']);
    await sleep(50);
    expect(expired).to.deep.equal(['short', 'long']);
  });

  it('never expires a removed item, and lets the next one expire on time', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<Item>((item) => expired.push(item.name));
    const [a, b, c] = [new Item('a'), new Item('b'), new Item('c')];
    queue.add(a, 20);
    queue.add(b, 20);
    queue.add(c, 20);
    queue.remove(a); // the oldest
    queue.remove(c); // the newest
    queue.remove(c); // twice: nothing
    await sleep(50);
    expect(expired).to.deep.equal(['b']);
  });

  it('holds one timer per timeout length, whatever the number of items, and none once empty', () => {
    const before = timers();
    const queue = new DeadlineQueue<Item>(() => undefined);
    const items = Array.from({ length: 1000 }, (_, i) => new Item(String(i)));
    for (const item of items) queue.add(item, 60_000);
    queue.add(new Item('other'), 30_000);
    expect(timers()).to.equal(before + 2);
    for (const item of items) queue.remove(item);
    expect(timers()).to.equal(before + 1);
    expect(queue.size).to.equal(1);
  });

  it('still expires the items behind one whose handler threw', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<Item>((item) => {
      expired.push(item.name);
      if (item.name === 'a') throw new Error('handler failed');
    });
    const errors: unknown[] = [];
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', (err) => errors.push(err));
    try {
      queue.add(new Item('a'), 10);
      queue.add(new Item('b'), 10);
      await sleep(50);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of listeners) process.on('uncaughtException', l);
    }
    expect(expired).to.deep.equal(['a', 'b']);
    expect(errors).to.have.length(1);
  });

  it('serves a PendingRegistry: 1,000 parked requests of one route hold one timer', async () => {
    const before = timers();
    const registry = new PendingRegistry(() => Promise.resolve(null));
    const outcomes = Array.from({ length: 1000 }, (_, i) => registry.park(`id-${i}`, 60_000, 'r'));
    expect(timers()).to.equal(before + 1);
    registry.cancelAll('test-end');
    expect(timers()).to.equal(before);
    expect((await outcomes[999])?.kind).to.equal('cancelled');
  });
});
