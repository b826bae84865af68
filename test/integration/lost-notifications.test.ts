import { expect } from 'chai';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { silentLogger } from '../../src/observability/logger';
import { GatewayServer } from '../../src/replica/gateway-server';
import { createTopics, metricValue, uniqueGatewayNames } from '../support/gateway-fixture';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/**
 * Keyspace notifications switched off while replicas run. Each test has a redis-server of its own:
 * CONFIG SET on the shared test Redis would break every other test running against it.
 */
describe('integration: keyspace notifications lost at run time', function () {
  this.timeout(60_000);
  const INTERVAL_MS = 300;
  /** Two rounds to notice, plus slack for a machine busy with other tests. */
  const BOUND_MS = 4 * INTERVAL_MS + 3000;
  let stack: TestStack;
  let redis: PrivateRedis;
  let server: GatewayServer | undefined;
  const quietTopic = unique('nonotify.requests');

  before(async function () {
    stack = await useTestStack();
    await createTopics(stack, [quietTopic]);
  });

  beforeEach(async function () {
    redis = await startPrivateRedis();
  });

  afterEach(async function () {
    await server?.stop();
    server = undefined;
    await redis.stop();
  });

  async function start(extra: Record<string, string>): Promise<{ base: string; server: GatewayServer }> {
    const names = uniqueGatewayNames('nonotify');
    const config = loadGatewayConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      REDIS_URL: redis.url,
      PORT: '0',
      HOST: '127.0.0.1',
      REPLYGATE_ROLE: 'http',
      REPLYGATE_ROUTES: 'inline',
      REPLYGATE_REPLY_TOPIC: names.replyTopic,
      REPLYGATE_KEY_PREFIX: names.keyPrefix,
      REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: String(INTERVAL_MS),
      LOG_LEVEL: 'silent',
      ...extra,
    });
    const routes = parseRoutes(
      `routes:\n  - { name: quiet, method: GET, path: /quiet, topic: ${quietTopic}, timeoutMs: 5000 }\n`,
      config,
    );
    server = new GatewayServer({ config, routes, log: silentLogger() });
    await server.start();
    return { base: `http://127.0.0.1:${server.port}`, server };
  }

  const readyStatus = async (base: string): Promise<number> => (await fetch(`${base}/readyz`)).status;
  const flowingGauge = async (base: string): Promise<number> =>
    metricValue(await (await fetch(`${base}/metrics`)).text(), 'replygate_keyspace_notifications_flowing');

  it('turns /readyz and admission 503 from the canary alone (no CONFIG), and ready again once they flow', async function () {
    // REPLYGATE_REDIS_CHECK=false: as on managed Redis, the gateway never reads the setting.
    const { base } = await start({ REPLYGATE_REDIS_CHECK: 'false' });
    expect(await readyStatus(base)).to.equal(200);
    expect(await flowingGauge(base)).to.equal(1);

    await redis.client.config('SET', 'notify-keyspace-events', '');
    const lostAt = Date.now();
    await waitFor(async () => (await readyStatus(base)) === 503, BOUND_MS, '/readyz 503 after notifications went off');
    const body = (await (await fetch(`${base}/readyz`)).json()) as { checks: Record<string, boolean> };
    expect(body.checks).to.include({ notifications: false, subscription: true, redis: true });
    expect(await flowingGauge(base)).to.equal(0);
    // New requests are refused at once instead of waiting their whole timeout.
    const startedAt = Date.now();
    const refused = await fetch(`${base}/quiet`);
    expect(refused.status).to.equal(503);
    expect(refused.headers.get('retry-after')).to.equal('1');
    expect(Date.now() - startedAt).to.be.below(1000);
    expect(startedAt - lostAt).to.be.below(BOUND_MS);

    await redis.client.config('SET', 'notify-keyspace-events', 'K$');
    await waitFor(async () => (await readyStatus(base)) === 200, BOUND_MS, '/readyz 200 after notifications came back');
    expect(await flowingGauge(base)).to.equal(1);
  });

  it('with --redis-configure puts the setting back itself and stays or becomes ready', async function () {
    const { base } = await start({ REPLYGATE_REDIS_CONFIGURE: 'true' });
    await redis.client.config('SET', 'notify-keyspace-events', 'Ex');
    const flags = await waitFor(
      async () => {
        const value = ((await redis.client.config('GET', 'notify-keyspace-events')) as string[])[1] ?? '';
        return value.includes('K') && value.includes('$') ? value : undefined;
      },
      BOUND_MS,
      'notify-keyspace-events set back',
    );
    expect(flags).to.include('E'); // what was there is kept
    await waitFor(
      async () => (await readyStatus(base)) === 200,
      BOUND_MS,
      '/readyz 200 after the setting was restored',
    );
    expect(await flowingGauge(base)).to.equal(1);
  });
});
