import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { silentLogger } from '../../src/observability/logger';
import { encodeEnvelope } from '../../src/protocol/reply-envelope';
import { GatewayServer } from '../../src/replica/gateway-server';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { startProcess } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import {
  createTopics,
  gatewayEnv,
  uniqueGatewayNames,
  writeRoutes,
  type GatewayNames,
} from '../support/gateway-fixture';

describe('integration: start-up, readiness and lost notifications', function () {
  this.timeout(120_000);
  let stack: TestStack;
  /**
   * A redis-server of this file's own, new for each test: the tests here switch keyspace
   * notifications off, which on the shared test Redis would break whatever runs next.
   */
  let privateRedis: PrivateRedis;
  let redis: Redis;
  const silentTopic = unique('quiet.requests');

  before(async function () {
    stack = await useTestStack();
    await createTopics(stack, [silentTopic]);
  });

  beforeEach(async function () {
    privateRedis = await startPrivateRedis();
    redis = privateRedis.client;
  });

  afterEach(async function () {
    await privateRedis.stop();
  });

  /** An `http` replica in this process with one route, /quiet, to a topic nobody answers. */
  async function startInProcess(
    names: GatewayNames,
    timeoutMs: number,
    extra: Record<string, string>,
  ): Promise<GatewayServer> {
    const config = loadGatewayConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      REDIS_URL: privateRedis.url,
      PORT: '0',
      HOST: '127.0.0.1',
      REPLYGATE_ROLE: 'http',
      REPLYGATE_ROUTES: 'inline',
      REPLYGATE_REPLY_TOPIC: names.replyTopic,
      REPLYGATE_KEY_PREFIX: names.keyPrefix,
      LOG_LEVEL: 'silent',
      ...extra,
    });
    const routes = parseRoutes(
      `routes:\n  - { name: quiet, method: GET, path: /quiet, topic: ${silentTopic}, timeoutMs: ${timeoutMs} }\n`,
      config,
    );
    const server = new GatewayServer({ config, routes, log: silentLogger() });
    await server.start();
    return server;
  }

  const routesFile = () =>
    writeRoutes(`
routes:
  - name: quiet
    method: GET
    path: /quiet
    topic: ${silentTopic}
    timeoutMs: 1500
`);

  it('refuses to start when Redis has no keyspace notifications, naming the setting', async function () {
    await redis.config('SET', 'notify-keyspace-events', '');
    const env = gatewayEnv(stack, uniqueGatewayNames('nonotify'), {
      REPLYGATE_ROUTES: routesFile(),
      REPLYGATE_REDIS_CONFIGURE: 'false',
      REDIS_URL: privateRedis.url,
    });
    const error = await startProcess(['serve', '--role', 'http'], env, 30_000).then(
      async (r) => {
        await r.stop();
        return undefined;
      },
      (err: Error) => err,
    );
    expect(error, 'the gateway started without notifications').to.be.instanceOf(Error);
    expect(error!.message).to.include('notify-keyspace-events');
    expect(error!.message).to.include('RG_REDIS_NOTIFICATIONS_DISABLED');
  });

  it('sets the notifications itself with --redis-configure, then reports ready', async function () {
    await redis.config('SET', 'notify-keyspace-events', 'Ex');
    const env = gatewayEnv(stack, uniqueGatewayNames('configure'), {
      REPLYGATE_ROUTES: routesFile(),
      REDIS_URL: privateRedis.url,
    });
    const replica = await startProcess(['serve', '--role', 'all', '--redis-configure'], env);
    try {
      const flags = ((await redis.config('GET', 'notify-keyspace-events')) as string[])[1]!;
      expect(flags).to.include('K');
      expect(flags).to.include('$');
      expect(flags).to.include('E'); // what was there is kept
      const ready = await fetch(`http://127.0.0.1:${replica.port}/readyz`);
      expect(ready.status).to.equal(200);
      const body = (await ready.json()) as { checks: Record<string, boolean> };
      expect(body.checks).to.include({ redis: true, subscription: true, producer: true, relay: true });
    } finally {
      expect(await replica.stop()).to.equal(0);
    }
  });

  it('refuses a bad setting at start-up, naming the variable', async function () {
    const env = gatewayEnv(stack, uniqueGatewayNames('badcfg'), {
      REPLYGATE_ROUTES: routesFile(),
      REPLYGATE_TIMEOUT_MS: 'soon',
    });
    const error = await startProcess(['serve'], env, 30_000).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error!.message).to.include('REPLYGATE_TIMEOUT_MS (--timeout-ms)');
  });

  it('delivers a reply whose notification was lost by reading once more at the deadline', async function () {
    const names = uniqueGatewayNames('lostnote');
    const server = await startInProcess(names, 1500, { REPLYGATE_REDIS_CONFIGURE: 'true' });
    try {
      const pending = fetch(`http://127.0.0.1:${server.port}/quiet`);
      const [id] = await waitForPending(server);
      // Store the reply while notifications are off: the wake-up is lost, the reply is not.
      await redis.config('SET', 'notify-keyspace-events', '');
      const envelope = encodeEnvelope({
        meta: { id: id!, status: '200', receivedAt: Date.now(), topic: names.replyTopic, partition: 0, offset: '0' },
        body: Buffer.from('{"late":"but found"}'),
      });
      await redis.set(`${names.keyPrefix}reply:${id}`, envelope, 'PX', 10_000);
      await redis.config('SET', 'notify-keyspace-events', 'K$');
      const res = await pending;
      expect(res.status).to.equal(200);
      expect(await res.json()).to.deep.equal({ late: 'but found' });
    } finally {
      await server.stop();
    }
  });

  it('answers 503 with Retry-After while draining, and /readyz turns 503 first', async function () {
    const names = uniqueGatewayNames('drain');
    const server = await startInProcess(names, 1000, { REPLYGATE_SHUTDOWN_GRACE_MS: '3000' });
    const base = `http://127.0.0.1:${server.port}`;
    let inFlightSettled = false;
    const inFlight = fetch(`${base}/quiet`).finally(() => {
      inFlightSettled = true;
    });
    await waitForPending(server);
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    const stopping = server.stop();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).to.equal(503);
    // The order: /readyz says 503 while a request is still in flight and the listener still
    // answers, so a load balancer stops sending before anything is cut off.
    expect(inFlightSettled, 'the in-flight request ended before /readyz turned 503').to.equal(false);
    const refused = await fetch(`${base}/quiet`);
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(inFlightSettled).to.equal(false);
    // The request in flight still gets its answer (here its timeout) within the grace period.
    expect((await inFlight).status).to.equal(504);
    await stopping;
  });
});

async function waitForPending(server: GatewayServer): Promise<string[]> {
  const deadline = Date.now() + 5000;
  while (server.registry.size === 0) {
    if (Date.now() > deadline) throw new Error('request never parked');
    await new Promise((r) => setTimeout(r, 5));
  }
  return server.registry.ids();
}
