import { expect } from 'chai';
import { EventWaitersFullError } from '../../../src/errors/event-errors';
import { EventAwaitPublisher } from '../../../src/exchange/event-await-publisher';
import type { EventInterestStore, InterestOutcome } from '../../../src/exchange/event-interest-store';
import { silentLogger } from '../../../src/observability/logger';
import type { EventInterest } from '../../../src/protocol/event-await';
import type { OutgoingRequest, RequestPublisher } from '../../../src/protocol/outgoing-request';

const interest: EventInterest = {
  route: 'placeOrder',
  entity: 'e',
  since: 1,
  readState: false,
  stream: false,
  maxWaiters: 2,
  expiresAt: 2,
};

function request(extra: Partial<OutgoingRequest> = {}): OutgoingRequest {
  return {
    topic: 'orders.commands',
    dialect: 'replygate',
    correlationId: 'rg-1.abc',
    replyTopic: 'r',
    deadline: 0,
    route: 'placeOrder',
    method: 'POST',
    path: '/orders',
    params: {},
    query: {},
    headers: {},
    contentType: undefined,
    body: Buffer.alloc(0),
    key: undefined,
    ...extra,
  };
}

function parts(outcome: InterestOutcome = { kind: 'registered' }) {
  const calls: string[] = [];
  const registered: [string, EventInterest][] = [];
  const inner: RequestPublisher = {
    connected: true,
    connect: async () => undefined,
    disconnect: async () => undefined,
    publish: async (r) => {
      calls.push(`publish ${r.correlationId}`);
    },
  };
  const store: EventInterestStore = {
    register: async (id, what) => {
      // Resolve on a later turn: a publisher that did not wait for it would publish first.
      await new Promise((r) => setTimeout(r, 5));
      calls.push(`register ${id}`);
      registered.push([id, what]);
      return outcome;
    },
  };
  return { calls, registered, publisher: new EventAwaitPublisher(inner, store) };
}

describe('EventAwaitPublisher', () => {
  it('registers the waiter before it publishes the command (the race of seed 003)', async () => {
    const { calls, publisher } = parts();
    await publisher.publish(request({ awaits: interest, publish: true }));
    expect(calls).to.deep.equal(['register rg-1.abc', 'publish rg-1.abc']);
  });

  it('publishes nothing for a blocking read', async () => {
    const { calls, publisher } = parts();
    await publisher.publish(request({ awaits: { ...interest, readState: true, since: 0 }, publish: false }));
    expect(calls).to.deep.equal(['register rg-1.abc']);
  });

  it('refuses with 429 when the entity has maxWaiters waiters, publishing nothing', async () => {
    const { calls, publisher } = parts({ kind: 'full', limit: 2 });
    const err = await publisher.publish(request({ awaits: interest, publish: true })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(EventWaitersFullError);
    expect((err as EventWaitersFullError).status).to.equal(429);
    expect(calls).to.deep.equal(['register rg-1.abc']);
  });

  it('passes ordinary requests straight through', async () => {
    const { calls, publisher } = parts();
    await publisher.publish(request());
    expect(calls).to.deep.equal(['publish rg-1.abc']);
  });

  describe('restore (after Redis lost its data)', () => {
    const later = Date.now() + 60_000;
    const live = { ...interest, since: 1234, expiresAt: later };

    it('registers again, with the original since, the waiters whose requests still wait', async () => {
      const { registered, publisher } = parts();
      await publisher.publish(request({ correlationId: 'rg-1.a', awaits: live, publish: true }));
      await publisher.publish(request({ correlationId: 'rg-1.b', awaits: live, publish: true }));
      await publisher.publish(request({ correlationId: 'rg-1.gone', awaits: live, publish: true }));
      registered.length = 0;
      const result = await publisher.restore((id) => id !== 'rg-1.gone', silentLogger());
      expect(result).to.deep.equal({ registered: 2, answered: 0, failed: 0 });
      expect(registered.map(([id]) => id).sort()).to.deep.equal(['rg-1.a', 'rg-1.b']);
      expect(registered.every(([, what]) => what.since === 1234 && what.expiresAt === later)).to.equal(true);
      // A request that no longer waits is forgotten for good.
      registered.length = 0;
      await publisher.restore(() => true, silentLogger());
      expect(registered.map(([id]) => id).sort()).to.deep.equal(['rg-1.a', 'rg-1.b']);
    });

    it('leaves out expired waiters and those answered at registration', async () => {
      const expired = parts();
      await expired.publisher.publish(request({ awaits: { ...live, expiresAt: Date.now() - 1 }, publish: true }));
      expect(await expired.publisher.restore(() => true, silentLogger())).to.deep.equal({
        registered: 0,
        answered: 0,
        failed: 0,
      });
      const answered = parts({ kind: 'answered' });
      await answered.publisher.publish(request({ awaits: { ...live, readState: true }, publish: false }));
      answered.registered.length = 0;
      await answered.publisher.restore(() => true, silentLogger());
      expect(answered.registered).to.deep.equal([]);
    });
  });
});
