import { expect } from 'chai';
import { createCustomersHandler, SEEDED_CUSTOMERS } from '../../../examples/samples/customers-handler';
import { callHandler } from '../responder/fake-request';

describe('customers sample handler', () => {
  it('answers a seeded customer', async () => {
    for (const customer of SEEDED_CUSTOMERS) {
      const reply = await callHandler(createCustomersHandler(), {
        route: 'getCustomer',
        params: { customerId: customer.id },
      });
      expect(reply.status).to.equal(200);
      expect(reply.body).to.deep.equal(customer);
    }
    expect(SEEDED_CUSTOMERS.map((c) => c.id)).to.include.members(['c-1', 'c-2', 'c-3']);
  });

  it('answers 404 for an unknown customer', async () => {
    const reply = await callHandler(createCustomersHandler(), { route: 'getCustomer', params: { customerId: 'c-99' } });
    expect(reply.status).to.equal(404);
    expect(reply.body).to.include({ error: 'CUSTOMER_NOT_FOUND' });
  });

  it('falls back to the path, percent-decoding the id', async () => {
    const reply = await callHandler(createCustomersHandler(), { method: 'GET', path: '/customers/c%2D1' });
    expect(reply.status).to.equal(200);
    expect(reply.body).to.include({ id: 'c-1' });
  });
});
