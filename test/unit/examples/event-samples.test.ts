import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { orderEvents, userCreated } from '../../../examples/samples/event-handlers';
import { parseRoutes } from '../../../src/config/routes-file';

describe('event samples (issue 15)', () => {
  it('orders: CREATED then VALIDATED, keyed by the order id, no correlation header in sight', () => {
    const events = orderEvents({ orderId: 'o-1', items: [{ sku: 'tea', qty: 1 }] });
    expect(events.map((e) => [e.topic, e.key, e.value['status']])).to.deep.equal([
      ['orders.events', 'o-1', 'CREATED'],
      ['orders.events', 'o-1', 'VALIDATED'],
    ]);
  });

  it('orders: REJECTED with a reason when an item has no quantity', () => {
    const [, last] = orderEvents({ orderId: 'o-2', items: [{ sku: 'tea' }] });
    expect(last?.value).to.include({ status: 'REJECTED', reason: 'every item needs a quantity' });
    expect(orderEvents({ items: [] })).to.deep.equal([]);
  });

  it('users: a Debezium-style created event keyed by email', () => {
    expect(userCreated({ email: 'ada@example.com', name: 'Ada' }, () => 'u-1')).to.deep.equal([
      {
        topic: 'users.created',
        key: 'ada@example.com',
        value: { payload: { op: 'c', after: { id: 'u-1', email: 'ada@example.com', name: 'Ada' } } },
      },
    ]);
  });

  it('event-routes.yaml is a valid routes file pointing at the samples’ topics', () => {
    const text = readFileSync(join(__dirname, '../../../examples/samples/event-routes.yaml'), 'utf8');
    const routes = parseRoutes(text, { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] });
    expect(routes.map((r) => [r.name, r.await?.topic, r.await?.command])).to.deep.equal([
      ['createUser', 'users.created', true],
      ['placeOrderV2', 'orders.events', true],
      ['getOrderV2', 'orders.events', false],
    ]);
  });
});
