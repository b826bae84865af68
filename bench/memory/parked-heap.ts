/**
 * What a parked request costs in the gateway's V8 heap, apart from its connection, and which
 * objects make it up. One `all` replica runs in this process; a child process opens `N`
 * connections (idle), then sends `POST /park` on each (a topic nobody answers). The heap is read
 * after a full GC at three points (before, connected, parked) and, with `--snapshot`, heap
 * snapshots at the last two are compared by constructor.
 *
 *   node --expose-gc --import tsx bench/memory/parked-heap.ts [N] [--snapshot] [--role http]
 *
 * `--role http` runs an http replica instead (no relay in the process: nothing answers anyway).
 *
 * Needs KAFKA_BROKERS and REDIS_URL (e.g. `eval "$(scripts/stack.sh env)"`). Heap only: native
 * memory (socket buffers, the HTTP parser's C state) shows in the harness' RSS figures instead.
 */
import { createKafka, loadKafkaConnection } from '../../src/kafka/kafka-client';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { createLogger, silentLogger } from '../../src/observability/logger';
import { GatewayServer } from '../../src/replica/gateway-server';
import { measureParking } from './parking-client';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5_000);
const SNAPSHOT = process.argv.includes('--snapshot');
const ROLE = process.argv.includes('--role') ? process.argv[process.argv.indexOf('--role') + 1] : 'all';
async function main(): Promise<void> {
  const brokers = process.env['KAFKA_BROKERS'];
  const redisUrl = process.env['REDIS_URL'];
  if (!brokers || !redisUrl) throw new Error('set KAFKA_BROKERS and REDIS_URL');
  const tag = `heap${Date.now()}`;
  const parkTopic = `bench.${tag}.park`;
  const admin = createKafka(brokers.split(','), tag, createLogger('warn'), loadKafkaConnection(process.env)).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: parkTopic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const config = loadGatewayConfig({
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    REPLYGATE_ROLE: ROLE,
    REPLYGATE_ROUTES: 'inline',
    REPLYGATE_REPLY_TOPIC: `bench.${tag}.replies`,
    REPLYGATE_RELAY_GROUP: `bench-${tag}-relay`,
    REPLYGATE_KEY_PREFIX: `bench:${tag}:`,
    REPLYGATE_REDIS_CONFIGURE: 'true',
    REPLYGATE_MAX_PENDING: String(N * 2),
    LOG_LEVEL: 'silent',
  });
  const routes = parseRoutes(
    `routes:\n  - { name: park, method: POST, path: /park, topic: ${parkTopic}, timeoutMs: 600000 }\n`,
    config,
  );
  const server = new GatewayServer({ config, routes, log: silentLogger() });
  await server.start();
  const result = await measureParking(server.port, N, () => server.registry.size, SNAPSHOT ? tag : undefined);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await server.stop();
  process.exit(0);
}

void main();
