#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CONFIG_SOURCES } from '../config/gateway-config';
import { loadGatewayConfig } from '../config/load-config';
import { loadRoutesFile } from '../config/routes-file';
import { ReplygateError } from '../errors';
import { createLogger } from '../logging';
import { SAMPLES } from '../samples';
import { GatewayServer } from '../server/gateway-server';
import { parseServeFlags } from './parse-flags';

const USAGE = `Usage:
  replygate serve [--role all|http|relay] [--port N] [--routes FILE] [...]   run a gateway replica
  replygate sample <${Object.keys(SAMPLES).join('|')}> [--kafka-brokers H:P] [--topic T] [--group G]
                   [--partitions-concurrently N] [--per-partition-concurrency N]
                                                               run a sample service

Every serve flag has an environment variable twin:
${Object.values(CONFIG_SOURCES)
  .map((s) => `  --${s.flag.padEnd(24)} ${s.env}`)
  .join('\n')}
`;

async function serve(argv: string[]): Promise<void> {
  const config = loadGatewayConfig(process.env, parseServeFlags(argv));
  const log = createLogger(config.logLevel);
  const routes = config.routesFile === undefined ? undefined : loadRoutesFile(config.routesFile, config);
  const server = new GatewayServer({ config, routes, log });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // Reload the routes file; an invalid file is logged and the current routes stay.
  process.on('SIGHUP', () => void server.reloadRoutes());
  await server.start();
  // A line for scripts and tests that start replicas as child processes.
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', port: server.port, instanceId: config.instanceId, role: config.role })}\n`,
  );
}

async function sample(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'kafka-brokers': { type: 'string' },
      topic: { type: 'string' },
      group: { type: 'string' },
      'partitions-concurrently': { type: 'string' },
      'per-partition-concurrency': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const name = positionals[0] ?? '';
  const entry = (SAMPLES as Record<string, (typeof SAMPLES)[keyof typeof SAMPLES]>)[name];
  if (entry === undefined)
    throw new Error(`unknown sample "${name}"; choose one of ${Object.keys(SAMPLES).join(', ')}`);
  const brokers = (values['kafka-brokers'] ?? process.env['KAFKA_BROKERS'] ?? 'localhost:9092').split(',');
  const logger = createLogger(values['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info');
  const responder = entry.factory({
    brokers,
    topic: values.topic ?? entry.defaultTopic,
    groupId: values.group,
    logger,
    partitionsConsumedConcurrently: positiveInt(values['partitions-concurrently'], '--partitions-concurrently'),
    perPartitionConcurrency: positiveInt(values['per-partition-concurrency'], '--per-partition-concurrency'),
  });
  const stop = (): void => {
    responder.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await responder.start();
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', sample: name, topic: values.topic ?? entry.defaultTopic })}\n`,
  );
}

/** A flag's positive integer value, or undefined when the flag is absent. */
function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be an integer ≥ 1, got "${value}"`);
  return n;
}

/** Entry point of the `replygate` binary. */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'sample':
      return sample(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const code = err instanceof ReplygateError ? ` [${err.code}]` : '';
    process.stderr.write(`replygate: ${(err as Error).message}${code}\n`);
    process.exit(1);
  });
}
