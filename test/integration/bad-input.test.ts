import { request as httpRequest } from 'node:http';
import { expect } from 'chai';
import type { Producer } from 'kafkajs';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { silentLogger } from '../../src/observability/logger';
import { createEchoService } from '../../examples/samples/echo-service';
import type { Responder } from '../../src/responder/responder-options';
import { GatewayServer } from '../../src/replica/gateway-server';
import { createTopics, metricValue, testKafka, uniqueGatewayNames } from '../support/gateway-fixture';
import { useTestStack, type TestStack } from '../support/test-stack';
import type { RedisClient } from '../../src/redis/redis-connections';
import { testRedis } from '../support/test-redis';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request, so tests can send what fetch would normalise away (dot segments, bad bytes). */
function raw(port: number, method: string, path: string, headers: [string, string][], body?: Buffer | string) {
  return new Promise<RawResponse>((resolve, reject) => {
    // Repeated names become arrays: node sends one header line per value.
    const headerObject: Record<string, string | string[]> = {};
    for (const [name, value] of headers) {
      const existing = headerObject[name];
      headerObject[name] = existing === undefined ? value : [...([] as string[]).concat(existing), value];
    }
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: headerObject }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Hostile and broken input, tried on purpose against a real gateway on real Kafka and Redis. Each
 * row states the expected answer; after each row the gateway must still answer a normal request.
 */
describe('integration: bad input, tried on purpose', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let server: GatewayServer;
  let echo: Responder;
  let producer: Producer;
  let redis: RedisClient;
  const names = uniqueGatewayNames('badinput');
  const echoTopic = unique('bad.echo');
  const silentTopic = unique('bad.silent');
  let port = 0;

  before(async function () {
    stack = await useTestStack();
    await createTopics(stack, [echoTopic, silentTopic, names.replyTopic]);
    const config = loadGatewayConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      ...stack.redisEnv,
      PORT: '0',
      HOST: '127.0.0.1',
      REPLYGATE_ROLE: 'all',
      REPLYGATE_ROUTES: 'inline',
      REPLYGATE_REPLY_TOPIC: names.replyTopic,
      REPLYGATE_RELAY_GROUP: names.relayGroup,
      REPLYGATE_KEY_PREFIX: names.keyPrefix,
      REPLYGATE_REDIS_CONFIGURE: 'true',
      REPLYGATE_MAX_REPLY_BYTES: '2048',
      LOG_LEVEL: 'silent',
    });
    const routes = parseRoutes(
      `
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, maxBodyBytes: 1024, timeoutMs: 30000 }
  - { name: echoGet, method: GET, path: /echo/:id, topic: ${echoTopic}, timeoutMs: 30000 }
  - { name: silent, method: GET, path: /silent, topic: ${silentTopic}, timeoutMs: 20000 }
`,
      config,
    );
    server = new GatewayServer({ config, routes, log: silentLogger() });
    await server.start();
    port = server.port;
    echo = createEchoService({ brokers: stack.kafkaBrokers, topic: echoTopic, groupId: unique('echo') });
    await echo.start();
    producer = testKafka(stack).producer();
    await producer.connect();
    redis = await testRedis(stack);
  });

  after(async function () {
    await producer?.disconnect();
    await echo?.stop();
    await server?.stop();
    redis?.disconnect();
  });

  afterEach(async function () {
    // Proof the gateway keeps serving after every hostile row.
    const res = await raw(port, 'POST', '/echo/still-alive', [['content-type', 'application/json']], '{"ok":1}');
    expect(res.status, res.body).to.equal(200);
    expect(JSON.parse(res.body).body).to.deep.equal({ ok: 1 });
  });

  const json: [string, string] = ['content-type', 'application/json'];
  const rows: {
    name: string;
    method: string;
    path: string;
    headers?: [string, string][];
    body?: Buffer | string;
    status: number;
    error?: string;
  }[] = [
    {
      name: 'malformed JSON',
      method: 'POST',
      path: '/echo/a',
      headers: [json],
      body: '{"a":',
      status: 400,
      error: 'RG_INVALID_JSON',
    },
    {
      name: 'wrong content type',
      method: 'POST',
      path: '/echo/a',
      headers: [['content-type', 'text/xml']],
      body: '<a/>',
      status: 415,
      error: 'RG_UNSUPPORTED_MEDIA_TYPE',
    },
    {
      name: 'garbage content type',
      method: 'POST',
      path: '/echo/a',
      headers: [['content-type', ';;;']],
      body: '{}',
      status: 415,
    },
    {
      name: 'oversized body',
      method: 'POST',
      path: '/echo/a',
      headers: [json],
      body: `"${'x'.repeat(4096)}"`,
      status: 413,
      error: 'RG_BODY_TOO_LARGE',
    },
    {
      name: 'oversized headers',
      method: 'GET',
      path: '/echo/a',
      headers: [['x-big', 'y'.repeat(20_000)]],
      status: 431,
    },
    {
      name: 'dot segments in the path',
      method: 'GET',
      path: '/echo/../../etc/passwd',
      status: 404,
      error: 'RG_ROUTE_NOT_FOUND',
    },
    {
      name: 'overlong UTF-8 encoding',
      method: 'GET',
      path: '/echo/%C0%AE%C0%AE',
      status: 400,
      error: 'RG_BAD_REQUEST',
    },
    { name: 'truncated percent-encoding', method: 'GET', path: '/echo/%E0%A4%A', status: 400, error: 'RG_BAD_REQUEST' },
    {
      name: 'unknown method on a route',
      method: 'PUT',
      path: '/echo/a',
      headers: [json],
      body: '{}',
      status: 405,
      error: 'RG_METHOD_NOT_ALLOWED',
    },
    {
      name: 'duplicated Idempotency-Key',
      method: 'POST',
      path: '/echo/a',
      headers: [json, ['idempotency-key', 'a'], ['idempotency-key', 'b']],
      body: '{}',
      status: 400,
      error: 'RG_BAD_REQUEST',
    },
  ];

  for (const row of rows) {
    it(`${row.name} → ${row.status}`, async function () {
      const res = await raw(port, row.method, row.path, row.headers ?? [], row.body);
      expect(res.status, res.body).to.equal(row.status);
      const body = JSON.parse(res.body) as { error: string; status: number };
      expect(body.status).to.equal(row.status);
      if (row.error) expect(body.error).to.equal(row.error);
      expect(String(res.headers['content-type'])).to.include('application/problem+json');
    });
  }

  it('encoded traversal is only a parameter value: it reaches the service as data', async function () {
    const res = await raw(port, 'GET', '/echo/..%2F..%2Fetc%2Fpasswd', []);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body).params.id).to.equal('../../etc/passwd');
  });

  it('duplicated forwarded headers are joined, not dropped or doubled', async function () {
    const res = await raw(port, 'GET', '/echo/dup', [
      ['x-request-id', 'one'],
      ['x-request-id', 'two'],
    ]);
    expect(res.status).to.equal(200);
    expect(JSON.parse(res.body).headers['x-request-id']).to.equal('one, two');
  });

  it('prototype-pollution payloads pollute nothing and reach the service as plain data', async function () {
    const payload = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}';
    const res = await raw(port, 'POST', '/echo/__proto__', [json], payload);
    expect(res.status).to.equal(200);
    const echoed = JSON.parse(res.body) as { params: Record<string, string>; body: Record<string, unknown> };
    expect(Object.prototype.hasOwnProperty.call(echoed.params, '__proto__')).to.equal(false);
    expect(echoed.params['id']).to.equal('__proto__');
    expect(Object.prototype.hasOwnProperty.call(echoed.body, '__proto__')).to.equal(true); // as data
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
  });

  it('ignores a client-supplied X-Correlation-Id', async function () {
    const res = await raw(port, 'GET', '/echo/cid', [
      ['x-correlation-id', `${server.instanceId}.AAAAAAAAAAAAAAAAAAAAAA`],
    ]);
    expect(res.status).to.equal(200);
    expect(res.headers['x-correlation-id']).to.not.equal(`${server.instanceId}.AAAAAAAAAAAAAAAAAAAAAA`);
    expect(String(res.headers['x-correlation-id']).startsWith(`${server.instanceId}.`)).to.equal(true);
  });

  it('a client that disconnects removes its pending entry at once', async function () {
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/silent`, { signal: controller.signal }).catch((e: Error) => e);
    await waitFor(() => server.registry.size === 1, 5000, 'the request to park');
    controller.abort();
    await pending;
    await waitFor(() => server.registry.size === 0, 2000, 'the pending entry to go');
  });

  it('skips junk on the reply topic (empty, oversized, missing header, foreign id) and keeps relaying', async function () {
    const before = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    await producer.send({
      topic: names.replyTopic,
      messages: [
        { value: null },
        { value: '', headers: {} },
        { value: 'x'.repeat(4096), headers: { 'rg-correlation-id': `${server.instanceId}.BBBBBBBBBBBBBBBBBBBBBB` } },
        { value: '{"no":"id"}', headers: { 'content-type': 'application/json' } },
        { value: 'id with spaces', headers: { 'rg-correlation-id': 'a b.c' } },
      ],
    });
    const res = await raw(port, 'GET', '/echo/after-junk', []);
    expect(res.status).to.equal(200);
    await waitFor(
      async () => {
        const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return (
          metricValue(page, 'replygate_relay_poison_total') - metricValue(before, 'replygate_relay_poison_total') === 5
        );
      },
      10_000,
      'five poison messages counted',
    );
  });

  it("stores a reply for another replica's or an unknown id with its TTL, and counts an unknown own id as late", async function () {
    const otherId = 'some-other-replica.CCCCCCCCCCCCCCCCCCCCCC';
    const unknownOwn = `${server.instanceId}.DDDDDDDDDDDDDDDDDDDDDD`;
    const lateBefore = metricValue(
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
      'replygate_late_replies_total',
    );
    await producer.send({
      topic: names.replyTopic,
      messages: [
        { value: 'not json at all', headers: { 'rg-correlation-id': otherId } },
        { value: '{}', headers: { 'rg-correlation-id': unknownOwn } },
      ],
    });
    await waitFor(
      async () => (await redis.exists(`${names.keyPrefix}reply:${otherId}`)) === 1,
      10_000,
      'the foreign reply stored',
    );
    expect(await redis.pttl(`${names.keyPrefix}reply:${otherId}`)).to.be.greaterThan(0);
    await waitFor(
      async () =>
        metricValue(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'replygate_late_replies_total') ===
        lateBefore + 1,
      10_000,
      'the unknown own reply counted as late',
    );
  });
});
