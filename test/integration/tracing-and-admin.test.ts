import { writeFileSync } from 'node:fs';
import { expect } from 'chai';
import type { Consumer } from 'kafkajs';
import { silentLogger } from '../../src/observability/logger';
import type { Responder } from '../../src/responder/responder-options';
import { createEchoService } from '../../examples/samples/echo-service';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  metricValue,
  metricsOf,
  startReplica,
  testKafka,
  uniqueGatewayNames,
  writeRoutes,
} from '../support/gateway-fixture';

const TOKEN = 'integration-admin-token-0123456789';
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

/**
 * W3C trace context through a real round trip (gateway → Kafka → echo responder → reply topic →
 * relay → Redis → gateway), and the admin API with SIGHUP route reloads, on one `all` replica.
 */
describe('integration: traceparent round trip, admin and route reload', function () {
  this.timeout(180_000);

  let stack: TestStack;
  let replica: ChildReplica;
  let routesFile: string;
  let echo: Responder;
  let spy: Consumer;
  const echoTopic = unique('trace.echo');
  const spied: Record<string, string>[] = [];
  const routesYaml = (extra = ''): string => `
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, timeoutMs: 60000 }
${extra}`;
  const url = (path: string): string => `http://127.0.0.1:${replica.port}${path}`;
  const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(url(path), { ...init, headers: { authorization: `Bearer ${TOKEN}` } });

  before(async function () {
    stack = await useTestStack();
    const names = uniqueGatewayNames('trace');
    await createTopics(stack, [echoTopic, names.replyTopic]);
    routesFile = writeRoutes(routesYaml());
    replica = await startReplica(
      'all',
      gatewayEnv(stack, names, {
        REPLYGATE_ROUTES: routesFile,
        REPLYGATE_ADMIN_TOKEN: TOKEN,
        REPLYGATE_RELAY_LAG_INTERVAL_MS: '300',
      }),
    );
    echo = createEchoService({
      brokers: stack.kafkaBrokers,
      topic: echoTopic,
      groupId: unique('echo'),
      logger: silentLogger(),
    });
    await echo.start();
    // A second group on the request topic, to see the Kafka headers the service receives.
    spy = testKafka(stack).consumer({ groupId: unique('trace-spy') });
    await spy.connect();
    await spy.subscribe({ topic: echoTopic, fromBeginning: true });
    await spy.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        spied.push(headers);
      },
    });
  });

  after(async function () {
    await replica?.stop();
    await echo?.stop();
    await spy?.disconnect();
  });

  it('carries the client trace to the service as a Kafka header and answers with the service hop', async () => {
    const res = await fetch(url('/echo/t1'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01`,
        tracestate: 'congo=t61rcWkgMzE',
      },
      body: '{"hello":"trace"}',
    });
    expect(res.status).to.equal(200);
    const correlationId = res.headers.get('x-correlation-id')!;
    const answered = res.headers.get('traceparent')!;
    expect(answered).to.match(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));

    const sent = (await waitFor(
      () => spied.find((h) => h['rg-correlation-id'] === correlationId),
      30_000,
      'the spy to see the request',
    ))!;
    // The gateway's hop: same trace, a span id of its own, the client's tracestate.
    const gatewayHop = sent['traceparent']!;
    expect(gatewayHop).to.match(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    expect(gatewayHop).to.not.include(CLIENT_SPAN);
    expect(sent['tracestate']).to.equal('congo=t61rcWkgMzE');
    // The responder continued it: the answer is neither the client's nor the gateway's span.
    expect(answered).to.not.equal(gatewayHop);
    expect(answered).to.not.include(CLIENT_SPAN);
  });

  it('starts a trace for a client that sent none', async () => {
    const res = await fetch(url('/echo/t2'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(200);
    expect(res.headers.get('traceparent')).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('serves the OpenAPI document and guards the admin API with its token', async () => {
    const doc = (await (await fetch(url('/openapi.json'))).json()) as { openapi: string; paths: object };
    expect(doc.openapi).to.equal('3.1.0');
    expect(Object.keys(doc.paths)).to.deep.equal(['/echo/{id}', '/v1/replies/{id}', '/v1/replies/{id}/events']);
    expect((await fetch(url('/admin/settings'))).status).to.equal(401);
    const settings = (await (await admin('/admin/settings')).json()) as Record<string, unknown>;
    expect(settings).to.include({ role: 'all', replyTtlMs: 60_000 });
    expect(JSON.stringify(settings)).to.not.include(TOKEN);
    // The Redis address is shown (issue 14: shape, address, user, TLS), never credentials in it.
    expect(JSON.stringify(settings)).to.not.match(/rediss?:\/\/[^"]*@/);
    const pending = (await (await admin('/admin/pending')).json()) as { total: number };
    expect(pending.total).to.equal(0);
  });

  it('reloads routes on SIGHUP, and keeps them when the new file is invalid', async () => {
    const routeNames = async () =>
      ((await (await admin('/admin/routes')).json()) as { routes: { name: string }[] }).routes.map((r) => r.name);
    const refused = async () =>
      metricValue(await metricsOf(replica), 'replygate_route_reloads_total', { result: 'refused' });
    const refusedBefore = await refused();
    writeFileSync(routesFile, routesYaml(`  - { name: echo2, method: POST, path: /v2/echo/:id, topic: ${echoTopic} }`));
    replica.child.kill('SIGHUP');
    await waitFor(
      async () => {
        const body = (await (await admin('/admin/routes')).json()) as { routes: { name: string }[] };
        return body.routes.some((r) => r.name === 'echo2');
      },
      20_000,
      'the reloaded routes',
    );
    const res = await fetch(url('/v2/echo/x'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).to.equal(200);

    writeFileSync(routesFile, 'routes:\n  - { name: bad, method: GET, path: /bad }\n');
    replica.child.kill('SIGHUP');
    await waitFor(async () => (await refused()) === refusedBefore + 1, 20_000, 'the refused reload to be counted');
    expect(await routeNames()).to.deep.equal(['echo', 'echo2']);

    // Put the first routes back, so the other tests here see the same routes in any order.
    writeFileSync(routesFile, routesYaml());
    replica.child.kill('SIGHUP');
    await waitFor(async () => (await routeNames()).join() === 'echo', 20_000, 'the original routes again');
  });

  it('samples the relay lag per reply partition', async () => {
    await waitFor(
      async () => /replygate_relay_lag_messages\{group="[^"]+",partition="0"\}/.test(await metricsOf(replica)),
      20_000,
      'a relay lag sample',
    );
  });
});
