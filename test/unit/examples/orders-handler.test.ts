import { expect } from 'chai';
import { createOrdersHandler } from '../../../examples/samples/orders-handler';
import { callHandler } from '../responder/fake-request';

describe('orders sample handler', () => {
  const fixed = () => {
    let n = 0;
    return createOrdersHandler({ newId: () => `o-${++n}`, now: () => new Date('2024-01-02T03:04:05.000Z') });
  };

  it('creates an order: 201, the order, and a location header', async () => {
    const handler = fixed();
    const reply = await callHandler(handler, {
      route: 'createOrder',
      method: 'POST',
      path: '/orders',
      body: { customerId: 'c-1', items: [{ sku: 'sku-1', qty: 2 }] },
    });
    expect(reply.status).to.equal(201);
    expect(reply.headers).to.deep.equal({ location: '/orders/o-1' });
    expect(reply.body).to.deep.equal({
      id: 'o-1',
      customerId: 'c-1',
      items: [{ sku: 'sku-1', qty: 2 }],
      status: 'CREATED',
      createdAt: '2024-01-02T03:04:05.000Z',
    });
  });

  it('gets a created order, and 404 for an unknown one', async () => {
    const handler = fixed();
    await callHandler(handler, { route: 'createOrder', body: { customerId: 'c-1', items: [{ sku: 'a', qty: 1 }] } });
    const found = await callHandler(handler, { route: 'getOrder', params: { orderId: 'o-1' } });
    expect(found.status).to.equal(200);
    expect(found.body).to.include({ id: 'o-1', customerId: 'c-1' });

    const missing = await callHandler(handler, { route: 'getOrder', params: { orderId: 'o-9' } });
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({
      error: 'ORDER_NOT_FOUND',
      message: 'Order o-9 not found',
      details: { orderId: 'o-9' },
    });
  });

  it('answers 422 naming every bad field', async () => {
    const reply = await callHandler(fixed(), {
      route: 'createOrder',
      body: { customerId: 7, items: [{ sku: 'a', qty: 0 }, { qty: 1.5 }] },
    });
    expect(reply.status).to.equal(422);
    const body = reply.body as { error: string; details: { issues: { field: string }[] } };
    expect(body.error).to.equal('VALIDATION_FAILED');
    const fields = body.details.issues.map((i) => i.field);
    expect(fields).to.include.members(['customerId', 'items.0.qty', 'items.1.sku', 'items.1.qty']);
  });

  it('answers 422 for a missing or empty items list', async () => {
    const none = await callHandler(fixed(), { route: 'createOrder', body: { customerId: 'c-1' } });
    expect(none.status).to.equal(422);
    expect(JSON.stringify(none.body)).to.contain('"field":"items"');
    const empty = await callHandler(fixed(), { route: 'createOrder', body: { customerId: 'c-1', items: [] } });
    expect(empty.status).to.equal(422);
  });

  it('answers 422 for a body that is not an object', async () => {
    const reply = await callHandler(fixed(), { route: 'createOrder', body: '[1]', contentType: 'application/json' });
    expect(reply.status).to.equal(422);
    expect(JSON.stringify(reply.body)).to.contain('(body)');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const reply = await callHandler(fixed(), { route: 'createOrder', body: '{', contentType: 'application/json' });
    expect(reply.status).to.equal(400);
    expect(reply.body).to.include({ error: 'INVALID_JSON' });
  });

  it('dispatches on method and path when there is no route name', async () => {
    const handler = fixed();
    const created = await callHandler(handler, {
      method: 'POST',
      path: '/orders',
      body: { customerId: 'c-2', items: [{ sku: 'a', qty: 1 }] },
    });
    expect(created.status).to.equal(201);
    const got = await callHandler(handler, { method: 'GET', path: '/orders/o-1' });
    expect(got.status).to.equal(200);
  });

  it('answers 404 UNKNOWN_OPERATION for something it does not serve', async () => {
    const reply = await callHandler(fixed(), { route: 'deleteOrder', method: 'DELETE', path: '/orders/o-1' });
    expect(reply.status).to.equal(404);
    expect(reply.body).to.include({ error: 'UNKNOWN_OPERATION' });
  });

  it('forgets the oldest order beyond maxOrders', async () => {
    let n = 0;
    const handler = createOrdersHandler({ newId: () => `o-${++n}`, maxOrders: 2 });
    for (let i = 0; i < 3; i++) {
      await callHandler(handler, { route: 'createOrder', body: { customerId: 'c', items: [{ sku: 's', qty: 1 }] } });
    }
    expect((await callHandler(handler, { route: 'getOrder', params: { orderId: 'o-1' } })).status).to.equal(404);
    expect((await callHandler(handler, { route: 'getOrder', params: { orderId: 'o-3' } })).status).to.equal(200);
  });
});
