/**
 * What a parked request costs in the gateway's V8 heap, apart from its connection, and which
 * objects make it up. One `all` replica runs in this process; a child process opens `N`
 * connections (idle), then sends `POST /park` on each (a topic nobody answers). The heap is read
 * after a full GC at three points (before, connected, parked) and, with `--snapshot`, heap
 * snapshots at the last two are compared by constructor.
 *
 *   node --expose-gc --import tsx bench/memory/parked-heap.ts [N] [--snapshot]
 *
 * Needs KAFKA_BROKERS and REDIS_URL (e.g. `eval "$(scripts/stack.sh env)"`). Heap only: native
 * memory (socket buffers, the HTTP parser's C state) shows in the harness' RSS figures instead.
 */
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { loadGatewayConfig } from '../../src/config/load-config';
import { parseRoutes } from '../../src/config/routes-file';
import { silentLogger } from '../../src/logging';
import { GatewayServer } from '../../src/server/gateway-server';
import { HeapDiff } from './heap-diff';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5_000);
const SNAPSHOT = process.argv.includes('--snapshot');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** The client: opens N connections, then on "park" on stdin sends one request on each. */
const CLIENT = `
const net = require('node:net');
const [port, n] = process.argv.slice(1).map(Number);
const body = '{"park":true}';
const req = 'POST /park HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n' + body;
const sockets = [];
(async () => {
  for (let i = 0; i < n; i += 250) {
    await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => new Promise((ok, ko) => {
      const s = net.connect({ host: '127.0.0.1', port }, ok); s.on('error', ko); s.on('data', () => {}); sockets.push(s);
    })));
  }
  process.stdout.write('connected\\n');
  process.stdin.once('data', () => { for (const s of sockets) s.write(req); process.stdout.write('sent\\n'); });
})();
`;

async function main(): Promise<void> {
  const brokers = process.env['KAFKA_BROKERS'];
  const redisUrl = process.env['REDIS_URL'];
  if (!brokers || !redisUrl) throw new Error('set KAFKA_BROKERS and REDIS_URL');
  const tag = `heap${Date.now()}`;
  const parkTopic = `bench.${tag}.park`;
  const admin = new Kafka({ clientId: tag, brokers: brokers.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: parkTopic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const config = loadGatewayConfig({
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    REPLYGATE_ROLE: 'all',
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
  const before = heapUsed();
  const client = spawn(process.execPath, ['-e', CLIENT, String(server.port), String(N)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = client.stdout.setEncoding('utf8');
  const next = (): Promise<string> => new Promise((r) => lines.once('data', (d: string) => r(d.trim())));
  await next(); // connected
  await new Promise((r) => setTimeout(r, 1000));
  const connected = heapUsed();
  const diff = SNAPSHOT ? HeapDiff.start(tag) : undefined;
  client.stdin.write('park\n');
  await next(); // sent
  while (server.registry.size < N) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  const parked = heapUsed();

  const result: Record<string, unknown> = {
    parked: N,
    heapBytesPerIdleConnection: Math.round((connected - before) / N),
    heapBytesPerParkedRequest: Math.round((parked - connected) / N),
  };
  if (diff) result['largestPerRequest'] = diff.end(N);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  client.kill();
  await server.stop();
  process.exit(0);
}

void main();
