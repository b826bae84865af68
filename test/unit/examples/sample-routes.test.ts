import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRoutes } from '../../../src/config/routes-file';
import { SAMPLES } from '../../../examples/samples/samples';
import { callHandler } from '../responder/fake-request';

const ROUTES_FILE = join(__dirname, '../../../examples/samples/routes.yaml');

describe('sample routes.yaml', () => {
  const routes = parseRoutes(readFileSync(ROUTES_FILE, 'utf8'), {
    timeoutMs: 5000,
    maxBodyBytes: 1024 * 1024,
    forwardHeaders: [],
  });

  it('is a valid routes file covering every sample operation', () => {
    expect(routes.map((r) => r.name)).to.have.members([
      'createOrder',
      'getOrder',
      'getCustomer',
      'getBasket',
      'addToBasket',
      'echo',
      'echoGet',
    ]);
  });

  it('points every route at a sample default topic', () => {
    const topics = Object.values(SAMPLES).map((s) => s.defaultTopic);
    for (const route of routes) expect(topics, route.name).to.include(route.topic);
  });

  it('names only operations the sample on its topic serves', async () => {
    for (const route of routes) {
      const sample = Object.values(SAMPLES).find((s) => s.defaultTopic === route.topic);
      if (sample === undefined) throw new Error(`no sample for ${route.topic}`);
      const reply = await callHandler(sample.createHandler(), { route: route.name, method: route.method, path: '/' });
      expect(reply.body, route.name).to.not.include({ error: 'UNKNOWN_OPERATION' });
    }
  });

  it('has the documented default topics and groups', () => {
    expect(SAMPLES.orders.defaultTopic).to.equal('orders.requests');
    expect(SAMPLES.customers.defaultTopic).to.equal('customers.requests');
    expect(SAMPLES.basket.defaultTopic).to.equal('basket.requests');
    expect(SAMPLES.echo.defaultTopic).to.equal('echo.requests');
    expect(SAMPLES.echo.defaultGroupId).to.equal('replygate-sample-echo');
  });
});
