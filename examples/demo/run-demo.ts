import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createKafka, createLogger, loadKafkaConnection } from 'replygate';
import { EVENT_SAMPLE_TOPICS } from '../samples/event-handlers';
import { EVENT_SAMPLES } from '../samples/event-sample-service';
import { SAMPLES } from '../samples/samples';
import { parseStackEnv } from './stack-env';

/**
 * `npm run demo`: a working local stack on real Kafka and Redis. Starts (or reuses) Kafka and Redis
 * through scripts/stack.sh unless KAFKA_BROKERS and REDIS_URL are set, then the four sample
 * services, one `relay` and two `http` replicas, and prints curl commands that work.
 * `--smoke` runs those requests itself and exits (0 when every answer was as expected).
 */
const ROOT = repoRoot(__dirname);
const CLI = resolve(ROOT, 'dist/cli/main.js');
const SAMPLE = resolve(ROOT, 'dist/examples/samples/run-sample.js');
const EVENT_SAMPLE = resolve(ROOT, 'dist/examples/samples/run-event-sample.js');
const ROUTES = combinedRoutes(
  resolve(ROOT, 'examples/samples/routes.yaml'),
  resolve(ROOT, 'examples/samples/event-routes.yaml'),
);
const children: ChildProcess[] = [];
let ownStack = false;

function stackEnv(): { KAFKA_BROKERS: string; REDIS_URL: string } {
  const { KAFKA_BROKERS, REDIS_URL } = process.env;
  if (KAFKA_BROKERS && REDIS_URL) return { KAFKA_BROKERS, REDIS_URL };
  process.stderr.write('demo: starting Kafka and Redis (scripts/stack.sh up)...\n');
  const out = execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  ownStack = true;
  const vars = parseStackEnv(out);
  if (!vars['KAFKA_BROKERS'] || !vars['REDIS_URL']) throw new Error(`stack.sh printed no env:\n${out}`);
  return { KAFKA_BROKERS: vars['KAFKA_BROKERS'], REDIS_URL: vars['REDIS_URL'] };
}

/** One routes file of the correlated samples' routes and the event routes (README "Event-driven routes"). */
function combinedRoutes(main: string, events: string): string {
  const eventRoutes = readFileSync(events, 'utf8').split('\n');
  const items = eventRoutes.slice(eventRoutes.findIndex((l) => l.startsWith('routes:')) + 1).join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'replygate-demo-')), 'routes.yaml');
  writeFileSync(file, `${readFileSync(main, 'utf8').trimEnd()}\n\n${items}`);
  return file;
}

/** The repository root: the nearest folder up with a package.json (dist/examples/demo or examples/demo). */
function repoRoot(from: string): string {
  let dir = from;
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

function start(label: string, args: string[], env: Record<string, string>, script = CLI): Promise<void> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  createInterface({ input: child.stderr! }).on('line', (l) => process.stderr.write(`[${label}] ${l}\n`));
  return new Promise((res, rej) => {
    child.once('exit', (code) => rej(new Error(`${label} exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('{"event":"ready"')) res();
      else process.stdout.write(`[${label}] ${l}\n`);
    });
  });
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGTERM');
        }),
    ),
  );
  if (ownStack && process.env['DEMO_KEEP_STACK'] !== 'true') {
    execFileSync('bash', [resolve(ROOT, 'scripts/stack.sh'), 'down'], { stdio: 'inherit' });
  }
}

async function smoke(ports: number[]): Promise<boolean> {
  const demoOrder = `o-${Date.now().toString(36)}`;
  const checks: [string, RequestInit | undefined, number][] = [
    [`http://127.0.0.1:${ports[0]}/customers/c-1`, undefined, 200],
    [`http://127.0.0.1:${ports[1]}/customers/nobody`, undefined, 404],
    [
      `http://127.0.0.1:${ports[0]}/orders`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"customerId":"c-1","items":[{"sku":"tea","qty":2}]}',
      },
      201,
    ],
    [
      `http://127.0.0.1:${ports[1]}/orders`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customerId":"c-1","items":[]}' },
      422,
    ],
    [
      `http://127.0.0.1:${ports[1]}/baskets/c-2/items`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sku":"mug","qty":1}' },
      200,
    ],
    [`http://127.0.0.1:${ports[0]}/echo/hello?x=1`, undefined, 200],
    [`http://127.0.0.1:${ports[0]}/nowhere`, undefined, 404],
    // Event-driven routes: plain services emit events, no correlation header (README "Event-driven routes").
    [
      `http://127.0.0.1:${ports[1]}/users`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email":"ada@example.com","name":"Ada"}',
      },
      200,
    ],
    [
      `http://127.0.0.1:${ports[0]}/v2/orders`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"orderId":"${demoOrder}","items":[{"sku":"tea","qty":1}]}`,
      },
      200,
    ],
    [
      `http://127.0.0.1:${ports[1]}/v2/orders`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"orderId":"${demoOrder}-x","items":[{"sku":"tea"}]}`,
      },
      422,
    ],
    [`http://127.0.0.1:${ports[1]}/v2/orders/${demoOrder}`, undefined, 200],
  ];
  let ok = true;
  for (const [url, init, expected] of checks) {
    const res = await fetch(url, init);
    const text = await res.text();
    const pass = res.status === expected;
    ok &&= pass;
    process.stdout.write(
      `${pass ? 'ok  ' : 'FAIL'} ${init?.method ?? 'GET'} ${url} -> ${res.status} ${text.slice(0, 160)}\n`,
    );
  }
  return ok;
}

async function main(): Promise<void> {
  const smokeOnly = process.argv.includes('--smoke');
  const env = stackEnv();
  const base = Number(process.env['DEMO_PORT'] ?? 8080);
  const ports = [base, base + 1];
  // The Kafka TLS/SASL settings of the shell (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*...) reach the
  // gateways and samples through their inherited environment, and this admin client too.
  const admin = createKafka(
    env.KAFKA_BROKERS.split(','),
    'replygate-demo',
    createLogger('warn'),
    loadKafkaConnection(process.env),
  ).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [...Object.values(SAMPLES).map((s) => s.defaultTopic), ...Object.values(EVENT_SAMPLE_TOPICS)].map(
      (topic) => ({ topic, numPartitions: 4 }),
    ),
    waitForLeaders: true,
  });
  await admin.disconnect();
  const gw = { ...env, REPLYGATE_ROUTES: ROUTES, REPLYGATE_REDIS_CONFIGURE: 'true', HOST: '127.0.0.1' };
  await Promise.all(Object.keys(SAMPLES).map((name) => start(name, [name], env, SAMPLE)));
  await Promise.all(Object.keys(EVENT_SAMPLES).map((name) => start(`${name}-events`, [name], env, EVENT_SAMPLE)));
  await start('relay', ['serve', '--role', 'relay'], { ...gw, PORT: String(base + 2) });
  await Promise.all(
    ports.map((port, i) => start(`http-${i + 1}`, ['serve', '--role', 'http'], { ...gw, PORT: String(port) })),
  );
  if (smokeOnly) {
    const ok = await smoke(ports);
    await stopAll();
    process.exit(ok ? 0 : 1);
  }
  process.stdout.write(`
replygate demo is up: http replicas on :${ports[0]} and :${ports[1]}, a relay on :${base + 2} (metrics only),
sample services orders, customers, basket and echo, event samples users and orders. Kafka ${env.KAFKA_BROKERS}, Redis ${env.REDIS_URL}.

  curl -i localhost:${ports[0]}/customers/c-1
  curl -i -X POST localhost:${ports[1]}/orders -H 'content-type: application/json' \\
       -d '{"customerId":"c-1","items":[{"sku":"tea","qty":2}]}'
  curl -i -X POST localhost:${ports[0]}/orders -H 'content-type: application/json' -d '{"customerId":"c-1","items":[]}'   # 422
  curl -i -X POST localhost:${ports[1]}/baskets/c-2/items -H 'content-type: application/json' -d '{"sku":"mug","qty":1}'
  curl -i localhost:${ports[0]}/baskets/c-2
  curl -i 'localhost:${ports[0]}/echo/hi?delayMs=6000'        # 504 after the route's 5 s timeout
  curl -i -X POST localhost:${ports[0]}/users -H 'content-type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'
  curl -i -X POST localhost:${ports[1]}/v2/orders -H 'content-type: application/json' -d '{"orderId":"o-1","items":[{"sku":"tea","qty":1}]}'
  curl -i localhost:${ports[0]}/v2/orders/o-1                 # blocking read: VALIDATED already, 200 at once
  curl -s localhost:${ports[0]}/readyz; curl -s localhost:${ports[0]}/metrics | grep replygate_requests_total

Ctrl-C stops everything${ownStack ? ' (and the Kafka/Redis it started; DEMO_KEEP_STACK=true keeps them)' : ''}.
`);
  const shutdown = (): void => {
    void stopAll().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  await stopAll().catch(() => undefined);
  process.exit(1);
});
