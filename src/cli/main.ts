#!/usr/bin/env node
import { CONFIG_SOURCES } from '../config/config-sources';
import { loadGatewayConfig } from '../config/load-config';
import { loadRoutesFile } from '../config/routes-file';
import { ReplygateError } from '../errors/replygate-error';
import { createLogger } from '../observability/logger';
import { GatewayServer } from '../replica/gateway-server';
import { parseServeFlags } from './parse-flags';

const USAGE = `Usage:
  replygate serve [--role all|http|relay] [--port N] [--routes FILE] [...]   run a gateway replica

Sample services live in examples/: npm run sample -- <orders|customers|basket|echo> [--topic T] ...

Every serve flag has an environment variable twin (secrets: the variable only):
${Object.values(CONFIG_SOURCES)
  .map((s) => `  ${s.flag === undefined ? ''.padEnd(26) : `--${s.flag.padEnd(24)}`} ${s.env}`)
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

/** Entry point of the `replygate` binary. */
export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
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
