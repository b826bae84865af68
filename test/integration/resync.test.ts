import { expect } from 'chai';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { silentLogger } from '../../src/observability/logger';
import { encodeEnvelope } from '../../src/protocol/reply-envelope';
import { GatewayServer } from '../../src/replica/gateway-server';
import { createTopics, uniqueGatewayNames } from '../support/gateway-fixture';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { useTestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';

/**
 * The subscriber connection lost while a reply is stored: its notification goes nowhere, and only
 * the resync after the reconnect (one MGET of every pending id) delivers it before the deadline.
 * On a redis-server of its own: the test kills every Pub/Sub client of the server.
 */
describe('integration: resync after the subscriber connection is lost', function () {
  this.timeout(60_000);
  const TIMEOUT_MS = 20_000;
  let redis: PrivateRedis;
  let server: GatewayServer | undefined;

  before(async function () {
    redis = await startPrivateRedis();
  });

  after(async function () {
    await server?.stop();
    await redis?.stop();
  });

  it('answers a request whose reply was stored while the subscriber was down, well before its deadline', async function () {
    const stack = await useTestStack();
    const topic = unique('resync.requests');
    const names = uniqueGatewayNames('resync');
    await createTopics(stack, [topic]);
    const config = loadGatewayConfig({
      KAFKA_BROKERS: stack.kafkaBrokers.join(','),
      REDIS_URL: redis.url,
      PORT: '0',
      HOST: '127.0.0.1',
      REPLYGATE_ROLE: 'http',
      REPLYGATE_ROUTES: 'inline',
      REPLYGATE_REPLY_TOPIC: names.replyTopic,
      REPLYGATE_KEY_PREFIX: names.keyPrefix,
      // Only the reconnect may resync here, not the periodic notification check (an hour away).
      REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: '3600000',
      LOG_LEVEL: 'silent',
    });
    const routes = parseRoutes(
      `routes:\n  - { name: quiet, method: GET, path: /quiet, topic: ${topic}, timeoutMs: ${TIMEOUT_MS} }\n`,
      config,
    );
    server = new GatewayServer({ config, routes, log: silentLogger() });
    await server.start();
    const gateway = server;

    const started = Date.now();
    const pending = fetch(`http://127.0.0.1:${gateway.port}/quiet`, { signal: AbortSignal.timeout(TIMEOUT_MS / 2) });
    const ids = await waitFor(
      () => (gateway.registry.size > 0 ? gateway.registry.ids() : undefined),
      10_000,
      'the request to park',
    );
    const id = ids![0]!;
    const envelope = encodeEnvelope({
      meta: { id, status: '200', receivedAt: Date.now(), topic: names.replyTopic, partition: 0, offset: '0' },
      body: Buffer.from('{"resynced":true}'),
    });
    // One transaction: the subscriber is cut and the reply stored before it can reconnect, so the
    // SET's notification reaches no one.
    const results = await redis.client
      .multi()
      .client('KILL', 'TYPE', 'pubsub')
      .set(`${names.keyPrefix}reply:${id}`, envelope, 'PX', 60_000)
      .exec();
    expect(Number(results![0]![1]), 'Pub/Sub connections killed').to.be.at.least(1);
    const res = await pending;
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ resynced: true });
    // Far from the 20 s deadline, whose last read would also have found it.
    expect(Date.now() - started).to.be.below(TIMEOUT_MS / 2);
  });
});
