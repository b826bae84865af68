import { loadGatewayConfig } from '../../src/config/load-config';
import { loadRoutesFile } from '../../src/config/routes-file';
import { parseServeFlags } from '../../src/cli/parse-flags';
import { createLogger } from '../../src/observability/logger';
import { GatewayServer } from '../../src/replica/gateway-server';
import { AffinityReplica } from './affinity-replica';
import { PollingNotifier } from './polling-notifier';

/**
 * Entry of the comparison gateways the benchmark runs as child processes:
 *   node variant-gateway.js polling [serve flags]    replygate with PollingNotifier (BENCH_POLL_MS, default 10)
 *   node variant-gateway.js affinity [serve flags]   AffinityReplica (own reply topic, no Redis)
 *   node variant-gateway.js no-local-wake [flags]    replygate role all without the in-process wake (before/after)
 * Prints the same `{"event":"ready",...}` line as `replygate serve`.
 */
async function main(): Promise<void> {
  const [variant, ...argv] = process.argv.slice(2);
  const config = loadGatewayConfig(process.env, parseServeFlags(argv));
  const log = createLogger(config.logLevel);
  const routes = config.routesFile === undefined ? [] : loadRoutesFile(config.routesFile, config);
  let port: number;
  let stop: () => Promise<void>;
  if (variant === 'no-local-wake') {
    const server = new GatewayServer({ config, routes, log, localWake: false });
    await server.start();
    port = server.port;
    stop = () => server.stop();
  } else if (variant === 'polling') {
    const intervalMs = Number(process.env['BENCH_POLL_MS'] ?? '10');
    const server = new GatewayServer({
      config,
      routes,
      log,
      createNotifier: ({ store, registry }) => new PollingNotifier(store, registry, intervalMs),
      // Pure polling: the origin learns of every reply by polling, as the seed did.
      localWake: false,
    });
    await server.start();
    port = server.port;
    stop = () => server.stop();
  } else if (variant === 'affinity') {
    const replica = new AffinityReplica(config, routes, log);
    await replica.start();
    port = replica.port;
    stop = () => replica.stop();
  } else {
    throw new Error(`unknown variant "${variant}" (polling | affinity | no-local-wake)`);
  }
  process.on('SIGTERM', () => void stop().finally(() => process.exit(0)));
  process.stdout.write(`${JSON.stringify({ event: 'ready', port, instanceId: config.instanceId, variant })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`variant-gateway: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
