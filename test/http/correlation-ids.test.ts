import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import { createApp } from '../../src/ingress/http/create-app';
import { createHttpServer } from '../../src/ingress/http/create-http-server';
import { silentLogger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { Readiness } from '../../src/observability/readiness';

const INSTANCE_ID = 'rg-corrtest';
const CORRELATION_ID = new RegExp(`^${INSTANCE_ID}\\.[A-Za-z0-9_-]{22}$`);

/** X-Correlation-Id on every response, the gateway's own endpoints and node's 417 included (issue 10, item 9). */
describe('X-Correlation-Id on every response (in-process)', () => {
  let server: Server;
  beforeEach(async () => {
    const readiness = new Readiness();
    readiness.markStarted();
    const app = createApp({
      readiness,
      metrics: new GatewayMetrics({ defaultMetrics: false }),
      log: silentLogger(),
      instanceId: INSTANCE_ID,
    });
    server = createHttpServer(app, {
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 1500,
      trustProxy: false,
      instanceId: INSTANCE_ID,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterEach(() => {
    server.close();
  });

  it('names health, readiness, metrics and unrouted answers with a fresh id each', async () => {
    const ids = new Set<string>();
    for (const path of ['/healthz', '/readyz', '/metrics', '/no/such/route']) {
      const res = await request(server).get(path);
      expect(res.headers['x-correlation-id'], path).to.match(CORRELATION_ID);
      ids.add(String(res.headers['x-correlation-id']));
    }
    expect(ids.size).to.equal(4);
  });

  it('answers an unsupported Expect with 417, a problem body and an X-Correlation-Id', async () => {
    const { port } = server.address() as AddressInfo;
    const res = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
      (resolve, reject) => {
        const req = httpRequest({ port, host: '127.0.0.1', path: '/healthz', headers: { expect: '200-ok' } }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        });
        req.on('error', reject);
        req.end();
      },
    );
    expect(res.status).to.equal(417);
    expect(res.headers['content-type']).to.equal('application/problem+json');
    expect(res.headers['x-correlation-id']).to.match(CORRELATION_ID);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body).to.include({
      status: 417,
      error: 'RG_EXPECTATION_FAILED',
      correlationId: res.headers['x-correlation-id'],
    });
  });
});
