import { expect } from 'chai';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { silentLogger } from '../../../src/observability/logger';
import { KeyOrderedDispatcher, type HandleMessage } from '../../../src/responder/key-ordered-dispatcher';
import { waitFor } from '../../support/wait-for';

function message(offset: number, key: string | null): KafkaMessage {
  return {
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(''),
    timestamp: String(Date.now()),
    attributes: 0,
    headers: {},
  } as KafkaMessage;
}

function batchOf(messages: KafkaMessage[], resolved: string[]): EachBatchPayload {
  return {
    batch: { topic: 't', partition: 0, messages },
    resolveOffset: (o: string) => void resolved.push(o),
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
}

/** A handler whose calls finish only when the test says so. */
function gatedHandler() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const handle: HandleMessage = ({ message: m }) =>
    new Promise<void>((resolve) => {
      started.push(m.offset);
      gates.set(m.offset, resolve);
    });
  const finish = (offset: number) => gates.get(String(offset))?.();
  return { handle, started, finish };
}

describe('KeyOrderedDispatcher', () => {
  const commits: string[] = [];
  const consumer = {
    commitOffsets: async (o: { offset: string }[]) => void commits.push(...o.map((x) => x.offset)),
  } as unknown as Consumer;

  beforeEach(() => {
    commits.length = 0;
  });

  it('runs different keys side by side up to the limit, and returns before they finish', async () => {
    const h = gatedHandler();
    const d = new KeyOrderedDispatcher(consumer, 3, h.handle, silentLogger());
    const resolved: string[] = [];
    await d.dispatch(batchOf([message(0, 'a'), message(1, 'b'), message(2, null)], resolved));
    await waitFor(() => h.started.length === 3, 1000);
    expect(h.started).to.deep.equal(['0', '1', '2']);
    expect(resolved).to.deep.equal(['0', '1', '2']);
    for (const o of [0, 1, 2]) h.finish(o);
    await d.drain();
  });

  it('keeps the order of messages that share a key', async () => {
    const h = gatedHandler();
    const d = new KeyOrderedDispatcher(consumer, 4, h.handle, silentLogger());
    await d.dispatch(batchOf([message(0, 'k'), message(1, 'k'), message(2, 'other')], []));
    await waitFor(() => h.started.length === 2, 1000);
    expect(h.started).to.deep.equal(['0', '2']);
    h.finish(0);
    await waitFor(() => h.started.length === 3, 1000);
    expect(h.started).to.deep.equal(['0', '2', '1']);
    h.finish(1);
    h.finish(2);
    await d.drain();
  });

  it('commits only up to the lowest offset not finished', async () => {
    const h = gatedHandler();
    const d = new KeyOrderedDispatcher(consumer, 3, h.handle, silentLogger());
    await d.dispatch(batchOf([message(10, 'a'), message(11, 'b'), message(12, 'c')], []));
    await waitFor(() => h.started.length === 3, 1000);
    h.finish(12);
    h.finish(11);
    await new Promise((r) => setTimeout(r, 20));
    expect(commits.map(Number).every((o) => o <= 10)).to.equal(true);
    h.finish(10);
    await d.drain();
    expect(commits.at(-1)).to.equal('13');
  });

  it('waits for a free slot when the limit is reached', async () => {
    const h = gatedHandler();
    const d = new KeyOrderedDispatcher(consumer, 1, h.handle, silentLogger());
    const dispatching = d.dispatch(batchOf([message(0, 'a'), message(1, 'b')], []));
    await waitFor(() => h.started.length === 1, 1000);
    await new Promise((r) => setTimeout(r, 20));
    expect(h.started).to.deep.equal(['0']);
    h.finish(0);
    await dispatching;
    await waitFor(() => h.started.length === 2, 1000);
    h.finish(1);
    await d.drain();
  });
});
