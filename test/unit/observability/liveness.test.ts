import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../../src/ingress/http/create-app';
import { silentLogger } from '../../../src/observability/logger';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';
import { Liveness } from '../../../src/observability/liveness';
import { Readiness } from '../../../src/observability/readiness';

describe('Liveness and /healthz', () => {
  it('fails /healthz naming a component down longer than the bound, and only then', async () => {
    let down = 0;
    const liveness = new Liveness(1000);
    liveness.add({ name: 'relay', downForMs: () => down });
    const app = createApp({ readiness: new Readiness(), liveness, metrics: new GatewayMetrics(), log: silentLogger() });
    await request(app).get('/healthz').expect(200);
    down = 900;
    await request(app).get('/healthz').expect(200);
    down = 1500;
    const res = await request(app).get('/healthz').expect(503);
    expect(res.body).to.deep.equal({ status: 'failing', failing: [{ component: 'relay', downForMs: 1500 }] });
  });

  it('never fails with a bound of 0', () => {
    const liveness = new Liveness(0);
    liveness.add({ name: 'relay', downForMs: () => 1e9 });
    expect(liveness.report().alive).to.equal(true);
  });
});
