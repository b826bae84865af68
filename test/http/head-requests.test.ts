import { expect } from 'chai';
import request from 'supertest';
import { createHarness } from './gateway-harness';

describe('HEAD on a GET route', () => {
  it('answers 405 with Allow and publishes nothing (no service call for a body nobody reads)', async () => {
    const h = createHarness('routes:\n  - { name: get-order, method: GET, path: /orders/:id, topic: orders.get }\n');
    try {
      const res = await request(h.app).head('/orders/o-1').expect(405);
      expect(res.headers['allow']).to.equal('GET');
      expect(res.headers['x-correlation-id']).to.be.a('string');
      expect(h.publisher.published).to.have.length(0);
      // The gateway's own GET endpoints still answer HEAD (express does it for them).
      await request(h.app).head('/healthz').expect(200);
    } finally {
      h.registry.cancelAll('test-end');
    }
  });
});
