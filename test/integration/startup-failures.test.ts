import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { StartupError } from '../../src/errors/startup-errors';
import { createLogger } from '../../src/observability/logger';
import { connectWithin } from '../../src/redis/redis-connections';
import { resolveRedisTarget } from '../../src/redis/redis-target';
import { gatewayEnv, uniqueGatewayNames, writeRoutes } from '../support/gateway-fixture';
import { freePort } from '../support/redis-server';
import { useTestStack, type TestStack } from '../support/test-stack';

const CLI = resolve(__dirname, '../../dist/cli/main.js');

/** A `serve` process watched until it exits (or `killAfterMs`), with every output line and its time. */
interface Run {
  code: number | null;
  elapsedMs: number;
  lines: { atMs: number; text: string }[];
  text: string;
}

function serve(env: Record<string, string>, opts: { killWhen?: (line: string) => boolean; maxMs?: number } = {}) {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Run['lines'] = [];
  const onLine = (text: string): void => {
    lines.push({ atMs: Date.now() - started, text });
    if (opts.killWhen?.(text) === true) child.kill('SIGKILL');
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.maxMs ?? 40_000);
  return new Promise<Run>((res) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ code, elapsedMs: Date.now() - started, lines, text: lines.map((l) => l.text).join('\n') });
    });
  });
}

/**
 * Every start-up failure names the setting to change (variable and flag) and the address it gave,
 * within seconds. The servers here are dead on purpose; the live one is the shared test stack.
 */
describe('integration: start-up failures name the setting and the address', function () {
  this.timeout(60_000);
  let stack: TestStack;
  let routes: string;

  before(async function () {
    stack = await useTestStack();
    routes = writeRoutes('routes:\n  - { name: q, method: GET, path: /q, topic: startup.failures }\n');
  });

  const env = (extra: Record<string, string>) =>
    gatewayEnv(stack, uniqueGatewayNames('startfail'), { REPLYGATE_ROUTES: routes, ...extra });

  it('Kafka unreachable: exits 1 within seconds naming KAFKA_BROKERS and the address, without kafkajs retry noise', async function () {
    const deadPort = await freePort();
    const run = await serve(env({ KAFKA_BROKERS: `127.0.0.1:${deadPort}` }));
    expect(run.code, run.text).to.equal(1);
    expect(run.text).to.include(`KAFKA_BROKERS (--kafka-brokers) 127.0.0.1:${deadPort}: connection refused`);
    expect(run.text).to.include('RG_STARTUP_FAILED');
    expect(run.elapsedMs, 'time to the failure').to.be.below(15_000);
    const kafkajsWarnings = run.lines.filter((l) => l.text.includes('"lib":"kafkajs"'));
    expect(kafkajsWarnings.length, kafkajsWarnings.map((l) => l.text).join('\n')).to.be.at.most(1);
  });

  it('Redis unreachable: a warn line naming REDIS_URL and the address (no password) at the first failed attempt', async function () {
    const deadPort = await freePort();
    const run = await serve(env({ REDIS_URL: `redis://:s3cretpw@127.0.0.1:${deadPort}/0` }), {
      killWhen: (line) => line.includes('REDIS_URL (--redis-url)'),
      maxMs: 20_000,
    });
    const warn = run.lines.find((l) => l.text.includes('REDIS_URL (--redis-url)'));
    expect(warn, run.text).to.not.equal(undefined);
    expect(warn!.text).to.include(`127.0.0.1:${deadPort}/0: connection refused`);
    expect(warn!.atMs, 'time to the first warn line').to.be.below(10_000);
    expect(run.text).to.not.include('s3cretpw');
  });

  it('Redis unreachable: start-up fails by its timeout with a StartupError naming REDIS_URL', async function () {
    const deadPort = await freePort();
    const url = `redis://:s3cretpw@127.0.0.1:${deadPort}/0`;
    const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 });
    const started = Date.now();
    const err = await connectWithin(
      redis,
      1500,
      resolveRedisTarget({ redisUrl: url, redisTls: false }),
      createLogger('silent'),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    redis.disconnect();
    expect(err).to.be.instanceOf(StartupError);
    expect((err as StartupError).code).to.equal('RG_STARTUP_FAILED');
    expect((err as Error).message).to.equal(
      `REDIS_URL (--redis-url) redis://***@127.0.0.1:${deadPort}/0: connection refused (not reachable within 1500 ms)`,
    );
    expect(Date.now() - started).to.be.below(5000);
  });

  it('port in use: exits 1 naming PORT and HOST and the address', async function () {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', () => r()));
    try {
      const run = await serve(env({ PORT: String(port), HOST: '127.0.0.1' }));
      expect(run.code, run.text).to.equal(1);
      expect(run.text).to.include(`PORT (--port) / HOST (--host) 127.0.0.1:${port}: address already in use`);
      expect(run.elapsedMs).to.be.below(15_000);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('starts normally against the live stack (the checks above are not always failing)', async function () {
    const run = await serve(env({}), { killWhen: (line) => line.startsWith('{"event":"ready"'), maxMs: 30_000 });
    expect(run.text).to.include('{"event":"ready"');
  });
});
