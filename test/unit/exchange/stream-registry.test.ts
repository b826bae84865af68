import { expect } from 'chai';
import { encodeEnvelope, type ReplyEnvelope } from '../../../src/protocol/reply-envelope';
import type { ReplyStore } from '../../../src/exchange/reply-store';
import { StreamRegistry, type StreamEnd } from '../../../src/exchange/stream-registry';

/** A reply store held in a Map: parts are "stored" by putting them in. */
function memoryStore(map: Map<string, Buffer>): ReplyStore {
  return {
    writeReplies: async () => [],
    readReply: async (id) => map.get(id) ?? null,
    readReplies: async (ids) => ids.map((id) => map.get(id) ?? null),
    keyOf: (id) => id,
  };
}

function part(seq: number, final = false): Buffer {
  return encodeEnvelope({
    meta: { id: 'x', receivedAt: 0, topic: 't', partition: 0, offset: '0', seq, ...(final ? { final } : {}) },
    body: Buffer.from(`part ${seq}`),
  });
}

function collect(registry: StreamRegistry, id: string, timeoutMs: number) {
  const parts: string[] = [];
  const ended = new Promise<{ reason: StreamEnd; next: number }>((resolve) => {
    registry.open(id, timeoutMs, {
      onPart: (p: ReplyEnvelope, seq: number) => parts.push(`${seq}:${p.body.toString()}`),
      onEnd: (reason, next) => resolve({ reason, next }),
    });
  });
  return { parts, ended };
}

describe('StreamRegistry', () => {
  it('delivers parts in sequence order whatever order they land in, and ends on the final marker', async () => {
    const map = new Map<string, Buffer>();
    const registry = new StreamRegistry(memoryStore(map));
    const { parts, ended } = collect(registry, 'a', 5000);
    for (const seq of [2, 0, 3, 1]) {
      map.set(`a#${seq}`, part(seq, seq === 3));
      registry.notify('a', seq);
    }
    expect(await ended).to.deep.equal({ reason: 'complete', next: 3 });
    expect(parts).to.deep.equal(['0:part 0', '1:part 1', '2:part 2']);
    expect(registry.size).to.equal(0);
  });

  it('at the deadline reads what landed without a notification, then ends with timeout', async () => {
    const map = new Map<string, Buffer>([
      ['b#0', part(0)],
      ['b#1', part(1)],
    ]);
    const registry = new StreamRegistry(memoryStore(map));
    const { parts, ended } = collect(registry, 'b', 30);
    expect(await ended).to.deep.equal({ reason: 'timeout', next: 2 });
    expect(parts).to.deep.equal(['0:part 0', '1:part 1']);
  });

  it('answers false for a part nobody streams, and cancels on request', async () => {
    const registry = new StreamRegistry(memoryStore(new Map()));
    expect(registry.notify('nobody', 0)).to.equal(false);
    const ends: StreamEnd[] = [];
    const cancel = registry.open('c', 5000, { onPart: () => undefined, onEnd: (r) => ends.push(r) });
    cancel('cancelled');
    cancel('cancelled');
    expect(ends).to.deep.equal(['cancelled']);
  });
});
