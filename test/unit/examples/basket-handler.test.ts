import { expect } from 'chai';
import { createBasketHandler } from '../../../examples/samples/basket-handler';
import { callHandler } from '../responder/fake-request';

describe('basket sample handler', () => {
  const add = (customerId: string, body: unknown) => ({
    route: 'addToBasket',
    method: 'POST',
    path: `/baskets/${customerId}/items`,
    params: { customerId },
    body: body as object,
  });

  it('answers an empty basket for an unknown customer', async () => {
    const reply = await callHandler(createBasketHandler(), { route: 'getBasket', params: { customerId: 'c-404' } });
    expect(reply.status).to.equal(200);
    expect(reply.body).to.deep.equal({ customerId: 'c-404', items: [] });
  });

  it('adds items, summing the quantity of the same sku, and returns the updated basket', async () => {
    const handler = createBasketHandler();
    const first = await callHandler(handler, add('c-1', { sku: 'apple', qty: 2 }));
    expect(first.status).to.equal(200);
    expect(first.body).to.deep.equal({ customerId: 'c-1', items: [{ sku: 'apple', qty: 2 }] });

    await callHandler(handler, add('c-1', { sku: 'pear', qty: 1 }));
    const third = await callHandler(handler, add('c-1', { sku: 'apple', qty: 3 }));
    expect(third.body).to.deep.equal({
      customerId: 'c-1',
      items: [
        { sku: 'apple', qty: 5 },
        { sku: 'pear', qty: 1 },
      ],
    });

    const got = await callHandler(handler, { route: 'getBasket', params: { customerId: 'c-1' } });
    expect(got.body).to.deep.equal(third.body);
    const other = await callHandler(handler, { route: 'getBasket', params: { customerId: 'c-2' } });
    expect(other.body).to.deep.equal({ customerId: 'c-2', items: [] });
  });

  it('answers 422 naming the bad fields and leaves the basket unchanged', async () => {
    const handler = createBasketHandler();
    const reply = await callHandler(handler, add('c-1', { sku: '', qty: -1 }));
    expect(reply.status).to.equal(422);
    const fields = (reply.body as { details: { issues: { field: string }[] } }).details.issues.map((i) => i.field);
    expect(fields).to.have.members(['sku', 'qty']);
    const got = await callHandler(handler, { route: 'getBasket', params: { customerId: 'c-1' } });
    expect(got.body).to.deep.equal({ customerId: 'c-1', items: [] });
  });

  it('dispatches on method and path when there is no route name', async () => {
    const handler = createBasketHandler();
    const added = await callHandler(handler, {
      method: 'POST',
      path: '/baskets/c-7/items',
      body: { sku: 'kiwi', qty: 1 },
    });
    expect(added.body).to.deep.equal({ customerId: 'c-7', items: [{ sku: 'kiwi', qty: 1 }] });
    const got = await callHandler(handler, { method: 'GET', path: '/baskets/c-7' });
    expect(got.body).to.deep.equal(added.body);
  });

  it('forgets the least recently changed basket beyond maxBaskets', async () => {
    const handler = createBasketHandler({ maxBaskets: 2 });
    await callHandler(handler, add('a', { sku: 's', qty: 1 }));
    await callHandler(handler, add('b', { sku: 's', qty: 1 }));
    await callHandler(handler, add('a', { sku: 's', qty: 1 })); // a is now the most recent
    await callHandler(handler, add('c', { sku: 's', qty: 1 }));
    const a = await callHandler(handler, { route: 'getBasket', params: { customerId: 'a' } });
    const b = await callHandler(handler, { route: 'getBasket', params: { customerId: 'b' } });
    expect(a.body).to.deep.equal({ customerId: 'a', items: [{ sku: 's', qty: 2 }] });
    expect(b.body).to.deep.equal({ customerId: 'b', items: [] });
  });
});
