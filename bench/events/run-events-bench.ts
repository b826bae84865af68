import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { createKafka } from '../../src/kafka/kafka-client';
import { silentLogger } from '../../src/observability/logger';
import { stopTestStack, useTestStack } from '../../test/support/test-stack';
import { unique } from '../../test/support/unique';
import { eventsMarkdown, runEventsBench } from './events-bench';

/**
 * `npm run bench:events [-- --quick] [-- --events N]`: only the events phase of `npm run bench`
 * (see `events-bench.ts`), on the test stack. Raw results in `bench/results/<time>-events[-quick].json`
 * (and `.md`), beside the main bench's.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const eventsArg = args.indexOf('--events');
  const events = eventsArg >= 0 ? Number(args[eventsArg + 1]) : quick ? 2_000 : 20_000;
  const startedAt = new Date();
  const stack = await useTestStack();
  const redis = new Redis(stack.redisUrl);
  const kafka = createKafka(stack.kafkaBrokers, unique('bench-events'), silentLogger());
  let result;
  try {
    result = await runEventsBench({ kafka, redis, events, progress: (line) => process.stdout.write(`${line}\n`) });
  } finally {
    redis.disconnect();
    if (stack.source !== 'env') await stopTestStack();
  }
  const dir = resolve(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/:/g, '-').replace(/\..*$/, '');
  const base = resolve(dir, `${stamp}-events${quick ? '-quick' : ''}`);
  const load = loadavg().map((l) => l.toFixed(1));
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ startedAt: startedAt.toISOString(), cpus: cpus().length, loadAvg: load, ...result }, null, 2)}\n`,
  );
  writeFileSync(`${base}.md`, `${eventsMarkdown(result)}\nLoad average at the end: ${load.join(' ')}\n`);
  process.stdout.write(`results: ${base}.json, .md\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:events: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
