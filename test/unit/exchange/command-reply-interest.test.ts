import { expect } from 'chai';
import { CommandReplyInterest } from '../../../src/exchange/command-reply-interest';
import { EventAwaitPublisher } from '../../../src/exchange/event-await-publisher';
import type { EventInterestStore, InterestOutcome } from '../../../src/exchange/event-interest-store';
import { PendingRegistry } from '../../../src/exchange/pending-registry';
import type { ReplyStore, ReplyWrite } from '../../../src/exchange/reply-store';
import { createStoredReplyDecoder } from '../../../src/exchange/stored-reply-decoder';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';
import { silentLogger } from '../../../src/observability/logger';
import { newCorrelationId, parseCorrelationId } from '../../../src/protocol/correlation-id';
import { entityOf, type EventInterest } from '../../../src/protocol/event-await';
import type { OutgoingRequest, RequestPublisher } from '../../../src/protocol/outgoing-request';
import { decodeEnvelope, encodeEnvelope } from '../../../src/protocol/reply-envelope';
import { resolveReplyInterest } from '../../../src/routing/event-interest';

const ID = newCorrelationId('rg-a');

const interest: EventInterest = {
  route: 'createOrder',
  entity: '',
  since: 1000,
  readState: true,
  stream: false,
  maxWaiters: 3,
  expiresAt: Date.now() + 10_000,
  pending: [{ reply: 'reply.body.orderId' }],
};

function request(): OutgoingRequest {
  return {
    topic: 'orders.commands',
    dialect: 'replygate',
    correlationId: ID,
    replyTopic: 'r',
    deadline: Date.now() + 10_000,
    route: 'createOrder',
    method: 'POST',
    path: '/orders',
    params: {},
    query: {},
    headers: {},
    contentType: undefined,
    body: Buffer.alloc(0),
    key: undefined,
    awaits: interest,
  };
}

/** A stored reply as the relay writes it. */
function stored(id: string, status: number, body: unknown): Buffer {
  return encodeEnvelope({
    meta: {
      id,
      status: String(status),
      contentType: 'application/json',
      receivedAt: 1,
      topic: 'r',
      partition: 0,
      offset: '1',
    },
    body: Buffer.from(JSON.stringify(body)),
  });
}

function setup(options: { outcome?: InterestOutcome; publishFails?: boolean } = {}) {
  const registry = new PendingRegistry(async () => null);
  const published: { id: string; parked: boolean }[] = [];
  const registered: { id: string; interest: EventInterest }[] = [];
  const writes: ReplyWrite[] = [];
  const inner: RequestPublisher = {
    connected: true,
    connect: async () => undefined,
    disconnect: async () => undefined,
    publish: async (r) => {
      published.push({ id: r.correlationId, parked: registry.has(r.correlationId) });
      if (options.publishFails === true) throw new Error('kafka down');
    },
  };
  const interests: EventInterestStore = {
    register: async (id, i) => {
      registered.push({ id, interest: i });
      return options.outcome ?? { kind: 'registered' };
    },
  };
  const replies: ReplyStore = {
    writeReplies: async (w) => {
      writes.push(...w);
      return w.map(() => true);
    },
    readReply: async () => null,
    readReplies: async (ids) => ids.map(() => null),
    keyOf: (id) => id,
  };
  const fromReply = new CommandReplyInterest({
    registry,
    interests,
    replies,
    decoder: createStoredReplyDecoder({
      limits: { maxCount: 50, maxBytes: 16_384 },
      metrics: new GatewayMetrics(),
      log: silentLogger(),
    }),
    resolve: resolveReplyInterest,
    log: silentLogger(),
  });
  const publisher = new EventAwaitPublisher(inner, interests, fromReply);
  const settled = () => new Promise((r) => setTimeout(r, 10));
  return { registry, published, registered, writes, publisher, settled };
}

describe('CommandReplyInterest (await matched on the id the command created)', () => {
  it('publishes the command under an id of its own, parked before the publish; registers nothing yet', async () => {
    const { published, registered, publisher } = setup();
    await publisher.publish(request());
    expect(published).to.have.length(1);
    const commandId = published[0]!.id;
    expect(commandId).to.not.equal(ID);
    expect(parseCorrelationId(commandId)?.instanceId).to.equal('rg-a');
    expect(published[0]!.parked).to.equal(true);
    expect(registered).to.deep.equal([]);
  });

  it("registers under the request's id with the entity from the reply, since unchanged", async () => {
    const { published, registered, writes, registry, publisher, settled } = setup();
    await publisher.publish(request());
    registry.deliver(published[0]!.id, stored(published[0]!.id, 201, { orderId: 'o-9' }));
    await settled();
    expect(registered).to.have.length(1);
    expect(registered[0]!.id).to.equal(ID);
    expect(registered[0]!.interest).to.include({ entity: entityOf(['o-9']), since: 1000, readState: true });
    expect(writes).to.deep.equal([]);
  });

  it('remembers the waiter it registered, so a Redis restart registers it again (restore)', async () => {
    const { published, registered, registry, publisher, settled } = setup();
    await publisher.publish(request());
    registry.deliver(published[0]!.id, stored(published[0]!.id, 201, { orderId: 'o-9' }));
    await settled();
    registered.length = 0;
    const result = await publisher.restore((id) => id === ID, silentLogger());
    expect(result).to.deep.equal({ registered: 1, answered: 0, failed: 0 });
    expect(registered.map((r) => [r.id, r.interest.entity])).to.deep.equal([[ID, entityOf(['o-9'])]]);
  });

  it('stores a 502 naming the missing reply field under the request id', async () => {
    const { published, registered, writes, registry, publisher, settled } = setup();
    await publisher.publish(request());
    registry.deliver(published[0]!.id, stored(published[0]!.id, 200, { id: 'o-9' }));
    await settled();
    expect(registered).to.deep.equal([]);
    expect(writes.map((w) => w.correlationId)).to.deep.equal([ID]);
    const { meta, body } = decodeEnvelope(writes[0]!.value);
    expect(meta.status).to.equal('502');
    expect(JSON.parse(body.toString())).to.deep.include({
      error: 'RG_REPLY_MALFORMED',
      details: { replyField: 'reply.body.orderId' },
    });
  });

  it("passes a reply outside 2xx through as the request's answer, registering nothing", async () => {
    const { published, registered, writes, registry, publisher, settled } = setup();
    await publisher.publish(request());
    registry.deliver(published[0]!.id, stored(published[0]!.id, 409, { error: 'duplicate' }));
    await settled();
    expect(registered).to.deep.equal([]);
    const { meta, body } = decodeEnvelope(writes[0]!.value);
    expect(meta).to.include({ id: ID, status: '409' });
    expect(JSON.parse(body.toString())).to.deep.equal({ error: 'duplicate' });
  });

  it('stores a 429 when the entity already has maxWaiters waiters', async () => {
    const { published, writes, registry, publisher, settled } = setup({ outcome: { kind: 'full', limit: 3 } });
    await publisher.publish(request());
    registry.deliver(published[0]!.id, stored(published[0]!.id, 200, { orderId: 'o-9' }));
    await settled();
    expect(decodeEnvelope(writes[0]!.value).meta.status).to.equal('429');
  });

  it('rejects when the command cannot be published, and leaves nothing parked', async () => {
    const { published, registry, publisher } = setup({ publishFails: true });
    const err = await publisher.publish(request()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).message).to.equal('kafka down');
    expect(registry.has(published[0]!.id)).to.equal(false);
  });
});
