import { expect } from 'chai';
import {
  DEADLINE_READ_MS,
  PendingRegistry,
  type CancelWaiter,
  type PendingOutcome,
} from '../../../src/exchange/pending-registry';

interface ReadCall {
  correlationId: string;
  resolve: (value: Buffer | null) => void;
  reject: (err: unknown) => void;
}

/**
 * A reader whose reads stay open until the test settles them, so a test can put a notification in
 * the middle of a read without any timing assumptions.
 */
class ControlledReader {
  readonly calls: ReadCall[] = [];
  private waiters: ((call: ReadCall) => void)[] = [];

  readonly read = (correlationId: string): Promise<Buffer | null> =>
    new Promise<Buffer | null>((resolve, reject) => {
      const call = { correlationId, resolve, reject };
      this.calls.push(call);
      const waiter = this.waiters.shift();
      waiter?.(call);
    });

  /** The next read call (or the one already made beyond `seen`). */
  nextRead(seen = this.calls.length): Promise<ReadCall> {
    const existing = this.calls[seen];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** A reader backed by a map, answering at once, counting its calls. */
function mapReader(store: Map<string, Buffer>) {
  const calls: string[] = [];
  return {
    calls,
    read: (id: string): Promise<Buffer | null> => {
      calls.push(id);
      return Promise.resolve(store.get(id) ?? null);
    },
  };
}

const LONG = 60_000;

describe('PendingRegistry', () => {
  let registries: PendingRegistry[] = [];
  function registry(...args: ConstructorParameters<typeof PendingRegistry>): PendingRegistry {
    const r = new PendingRegistry(...args);
    registries.push(r);
    return r;
  }
  afterEach(() => {
    // Clear the timers of any entry a failing test left behind.
    for (const r of registries) r.cancelAll('test-end');
    registries = [];
  });

  it('reads and resolves with the reply when notified', async () => {
    const store = new Map<string, Buffer>();
    const reader = mapReader(store);
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'route-a');
    expect(reg.size).to.equal(1);
    expect(reg.has('a')).to.equal(true);
    expect(reg.ids()).to.deep.equal(['a']);
    store.set('a', Buffer.from('reply-a'));
    reg.notify('a');
    const result = await outcome;
    expect(result.kind).to.equal('reply');
    expect((result as Extract<PendingOutcome, { kind: 'reply' }>).raw.toString()).to.equal('reply-a');
    expect(reader.calls).to.deep.equal(['a']);
    expect(reg.size).to.equal(0);
    expect(reg.has('a')).to.equal(false);
  });

  it('keeps each entry apart', async () => {
    const store = new Map<string, Buffer>([
      ['a', Buffer.from('A')],
      ['b', Buffer.from('B')],
    ]);
    const reg = registry(mapReader(store).read);
    const a = reg.park('a', LONG, 'r');
    const b = reg.park('b', LONG, 'r');
    reg.notify('b');
    const rb = await b;
    expect(rb.kind === 'reply' && rb.raw.toString()).to.equal('B');
    expect(reg.ids()).to.deep.equal(['a']);
    reg.notify('a');
    const ra = await a;
    expect(ra.kind === 'reply' && ra.raw.toString()).to.equal('A');
  });

  it('reports a notification for an unknown id as a late reply, without reading', () => {
    const late: string[] = [];
    const reader = mapReader(new Map());
    const reg = registry(reader.read, { onLateReply: (id) => late.push(id) });
    reg.notify('nobody');
    expect(late).to.deep.equal(['nobody']);
    expect(reader.calls).to.deep.equal([]);
  });

  it('reports a notification after the entry ended as a late reply', async () => {
    const late: string[] = [];
    const reg = registry(mapReader(new Map()).read, { onLateReply: (id) => late.push(id) });
    const outcome = reg.park('a', LONG, 'r');
    reg.cancel('a', 'client-closed');
    await outcome;
    reg.notify('a');
    expect(late).to.deep.equal(['a']);
  });

  it('keeps waiting when a notification finds no reply yet', async () => {
    const store = new Map<string, Buffer>();
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    (await reader.nextRead(0)).resolve(null);
    // The entry stays parked; a second notification reads again and delivers.
    expect(reg.has('a')).to.equal(true);
    store.set('a', Buffer.from('late but here'));
    reg.notify('a');
    (await reader.nextRead(1)).resolve(store.get('a') ?? null);
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('late but here');
  });

  it('times out with waitedMs after one final read that finds nothing', async () => {
    const reader = mapReader(new Map());
    const reg = registry(reader.read);
    const startedAt = Date.now();
    const result = await reg.park('a', 30, 'r');
    expect(result.kind).to.equal('timeout');
    const waited = (result as Extract<PendingOutcome, { kind: 'timeout' }>).waitedMs;
    // Node may fire a timer up to a millisecond early relative to Date.now().
    expect(waited).to.be.at.least(29);
    expect(waited).to.be.at.most(Date.now() - startedAt);
    expect(reader.calls).to.deep.equal(['a']);
    expect(reg.size).to.equal(0);
    // The store answered: a plain timeout (504), not an unreadable store (503).
    expect((result as Extract<PendingOutcome, { kind: 'timeout' }>).readFailed).to.equal(undefined);
  });

  it('delivers a reply found by the final read at the deadline, not a timeout', async () => {
    // The notification was lost: only the deadline read can find this reply.
    const reader = mapReader(new Map([['a', Buffer.from('found at deadline')]]));
    const reg = registry(reader.read);
    const result = await reg.park('a', 10, 'r');
    expect(result.kind).to.equal('reply');
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('found at deadline');
    expect(reader.calls).to.deep.equal(['a']);
  });

  it('times out with readFailed when the final read fails, and reports the read error', async () => {
    const errors: [string, unknown][] = [];
    const boom = new Error('redis down');
    const reg = registry(() => Promise.reject(boom), { onReadError: (id, err) => errors.push([id, err]) });
    const result = await reg.park('a', 10, 'r');
    expect(result.kind).to.equal('timeout');
    // A reply may exist but could not be read: the HTTP layer answers 503, not 504.
    expect((result as Extract<PendingOutcome, { kind: 'timeout' }>).readFailed).to.equal(true);
    expect(errors).to.deep.equal([['a', boom]]);
    expect(reg.size).to.equal(0);
  });

  it('ends the wait DEADLINE_READ_MS after the deadline when the final read hangs (a cluster failover), as readFailed', async () => {
    const reg = registry(() => new Promise<Buffer | null>(() => undefined));
    const started = Date.now();
    const result = await reg.park('a', 10, 'r');
    expect(result.kind).to.equal('timeout');
    expect((result as Extract<PendingOutcome, { kind: 'timeout' }>).readFailed).to.equal(true);
    expect(Date.now() - started).to.be.below(10 + DEADLINE_READ_MS + 500);
  });

  it('keeps the entry parked when a notified read fails, and reports the error', async () => {
    let reported!: (id: string) => void;
    const readError = new Promise<string>((resolve) => (reported = resolve));
    const reader = new ControlledReader();
    const reg = registry(reader.read, { onReadError: (id) => reported(id) });
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    (await reader.nextRead(0)).reject(new Error('redis blip'));
    expect(await readError).to.equal('a');
    expect(reg.has('a')).to.equal(true);
    reg.notify('a');
    (await reader.nextRead(1)).resolve(Buffer.from('second try'));
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('second try');
  });

  it('reads again by itself after a notified read fails, long before the deadline', async function () {
    // The notification is spent: without a retry the reply would wait for the read at the deadline.
    this.timeout(5_000);
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    (await reader.nextRead(0)).reject(new Error('connection reset'));
    (await reader.nextRead(1)).reject(new Error('still reconnecting'));
    (await reader.nextRead(2)).resolve(Buffer.from('found on retry'));
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('found on retry');
    expect(reader.calls).to.have.length(3);
  });

  it('stops retrying a failed notified read once the entry has ended', async () => {
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    void reg.park('a', LONG, 'r');
    reg.notify('a');
    (await reader.nextRead(0)).reject(new Error('connection reset'));
    reg.cancel('a', 'client-closed');
    await new Promise((r) => setTimeout(r, 150));
    expect(reader.calls).to.have.length(1);
  });

  it('reads again when a notification arrives during an in-flight read', async () => {
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    const first = await reader.nextRead(0);
    // Two more notifications while the first read is open: no parallel read, one re-read later.
    reg.notify('a');
    reg.notify('a');
    expect(reader.calls).to.have.length(1);
    first.resolve(null);
    const second = await reader.nextRead(1);
    expect(second.correlationId).to.equal('a');
    second.resolve(Buffer.from('after re-read'));
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('after re-read');
    expect(reader.calls).to.have.length(2);
  });

  it('reads again after a failed read when a notification arrived during it', async function () {
    // Without the re-read this test waits for a read that never comes; fail fast instead.
    this.timeout(1000);
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    const first = await reader.nextRead(0);
    reg.notify('a');
    first.reject(new Error('redis blip'));
    const second = await reader.nextRead(1);
    second.resolve(Buffer.from('after the blip'));
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('after the blip');
  });

  it('does not re-read when the in-flight read already found the reply', async () => {
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    const first = await reader.nextRead(0);
    reg.notify('a');
    first.resolve(Buffer.from('first'));
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('first');
    expect(reader.calls).to.have.length(1);
  });

  it('still makes its final read at the deadline while a notified read hangs', async () => {
    const reader = new ControlledReader();
    const reg = registry(reader.read);
    const outcome = reg.park('a', 20, 'r');
    reg.notify('a');
    const hanging = await reader.nextRead(0);
    const final = await reader.nextRead(1);
    final.resolve(null);
    const result = await outcome;
    expect(result.kind).to.equal('timeout');
    // The hanging read finishing later changes nothing.
    hanging.resolve(Buffer.from('too late'));
    await Promise.resolve();
    expect(reg.size).to.equal(0);
  });

  it('cancels one entry with its reason, once', async () => {
    const reader = mapReader(new Map([['a', Buffer.from('A')]]));
    const reg = registry(reader.read);
    const outcome = reg.park('a', LONG, 'r');
    const other = reg.park('b', LONG, 'r');
    expect(reg.cancel('a', 'client-closed')).to.equal(true);
    expect(reg.cancel('a', 'again')).to.equal(false);
    expect(await outcome).to.deep.equal({ kind: 'cancelled', reason: 'client-closed' });
    expect(reg.ids()).to.deep.equal(['b']);
    reg.notify('a');
    expect(reader.calls).to.deep.equal([]);
    reg.cancel('b', 'done');
    await other;
  });

  it('cancels every entry with cancelAll', async () => {
    const reg = registry(mapReader(new Map()).read);
    const outcomes = ['a', 'b', 'c'].map((id) => reg.park(id, LONG, 'r'));
    reg.cancelAll('shutdown');
    const results = await Promise.all(outcomes);
    expect(results).to.deep.equal([
      { kind: 'cancelled', reason: 'shutdown' },
      { kind: 'cancelled', reason: 'shutdown' },
      { kind: 'cancelled', reason: 'shutdown' },
    ]);
    expect(reg.size).to.equal(0);
  });

  it('delivers a reply in hand, once', async () => {
    const reg = registry(mapReader(new Map()).read);
    const outcome = reg.park('a', LONG, 'r');
    expect(reg.deliver('a', Buffer.from('batch'))).to.equal(true);
    expect(reg.deliver('a', Buffer.from('again'))).to.equal(false);
    const result = await outcome;
    expect(result.kind === 'reply' && result.raw.toString()).to.equal('batch');
  });

  it('ends an entry once: a cancel after a reply changes nothing', async () => {
    const reg = registry(mapReader(new Map([['a', Buffer.from('A')]])).read);
    const outcome = reg.park('a', LONG, 'r');
    reg.notify('a');
    const result = await outcome;
    expect(reg.cancel('a', 'late')).to.equal(false);
    expect(result.kind).to.equal('reply');
  });

  describe('several waiters for one id (idempotent retries)', () => {
    it('counts waiters, not ids, and ends every waiter with the one reply', async () => {
      const store = new Map<string, Buffer>();
      const reader = mapReader(store);
      const reg = registry(reader.read);
      const first = reg.park('a', LONG, 'r');
      const retry = reg.park('a', LONG, 'r');
      expect(reg.size).to.equal(2);
      expect(reg.ids()).to.deep.equal(['a']);
      store.set('a', Buffer.from('shared'));
      reg.notify('a');
      const results = await Promise.all([first, retry]);
      expect(results.map((r) => r.kind === 'reply' && r.raw.toString())).to.deep.equal(['shared', 'shared']);
      expect(reader.calls).to.deep.equal(['a']);
      expect(reg.size).to.equal(0);
      expect(reg.has('a')).to.equal(false);
    });

    it('cancels one waiter through its onPark handle, leaving the other parked', async () => {
      const reg = registry(mapReader(new Map([['a', Buffer.from('A')]])).read);
      let cancelFirst!: CancelWaiter;
      const first = reg.park('a', LONG, 'r', (cancel) => (cancelFirst = cancel));
      const retry = reg.park('a', LONG, 'r');
      cancelFirst.cancel('client-closed');
      expect(await first).to.deep.equal({ kind: 'cancelled', reason: 'client-closed' });
      expect(reg.size).to.equal(1);
      expect(reg.has('a')).to.equal(true);
      // A second cancel through the same handle is a no-op.
      cancelFirst.cancel('again');
      expect(reg.size).to.equal(1);
      reg.notify('a');
      const result = await retry;
      expect(result.kind === 'reply' && result.raw.toString()).to.equal('A');
    });

    it('removes the id when its last waiter is cancelled through onPark', async () => {
      const late: string[] = [];
      const reg = registry(mapReader(new Map()).read, { onLateReply: (id) => late.push(id) });
      let cancel!: CancelWaiter;
      const outcome = reg.park('a', LONG, 'r', (c) => (cancel = c));
      cancel.cancel('client-closed');
      await outcome;
      expect(reg.size).to.equal(0);
      expect(reg.has('a')).to.equal(false);
      reg.notify('a');
      expect(late).to.deep.equal(['a']);
    });

    it('gives each waiter its own deadline', async () => {
      const store = new Map<string, Buffer>();
      const reg = registry(mapReader(store).read);
      const short = reg.park('a', 10, 'r');
      const long = reg.park('a', LONG, 'r');
      expect((await short).kind).to.equal('timeout');
      expect(reg.size).to.equal(1);
      store.set('a', Buffer.from('for the patient one'));
      reg.notify('a');
      const result = await long;
      expect(result.kind === 'reply' && result.raw.toString()).to.equal('for the patient one');
    });

    it('cancels every waiter of an id with cancel()', async () => {
      const reg = registry(mapReader(new Map()).read);
      const outcomes = [reg.park('a', LONG, 'r'), reg.park('a', LONG, 'r')];
      const other = reg.park('b', LONG, 'r');
      expect(reg.cancel('a', 'publish-failed')).to.equal(true);
      expect(await Promise.all(outcomes)).to.deep.equal([
        { kind: 'cancelled', reason: 'publish-failed' },
        { kind: 'cancelled', reason: 'publish-failed' },
      ]);
      expect(reg.size).to.equal(1);
      reg.cancel('b', 'done');
      await other;
    });
  });

  it('clears the deadline timer of a waiter cancelled through onPark', () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const reg = registry(mapReader(new Map()).read);
    const before = timers();
    let cancel!: CancelWaiter;
    void reg.park('a', LONG, 'r', (c) => (cancel = c));
    expect(timers()).to.equal(before + 1);
    cancel.cancel('client-closed');
    expect(timers()).to.equal(before);
  });

  it('clears the deadline timer when an entry ends early', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const reg = registry(mapReader(new Map()).read);
    const before = timers();
    const outcome = reg.park('a', LONG, 'r');
    expect(timers()).to.equal(before + 1);
    reg.cancel('a', 'client-closed');
    // Checked at once: other code (the test runner) may start timers of its own across an await.
    expect(timers()).to.equal(before);
    await outcome;
  });
});

describe('PendingRegistry: async requests', () => {
  it('does not count the reply of an async request as late, once', () => {
    const late: string[] = [];
    const reg = new PendingRegistry(async () => null, { onLateReply: (id) => late.push(id) });
    reg.expectUnwaited('async-1', 60_000);
    reg.notify('async-1');
    reg.notify('async-1'); // a second notification (a rewrite) is late again
    reg.notify('other');
    expect(late).to.deep.equal(['async-1', 'other']);
  });
});
