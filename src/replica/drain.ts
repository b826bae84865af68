import type { Server } from 'node:http';
import type { GatewayApp } from '../ingress/http/create-app';
import type { GatewayConfig } from '../config/gateway-config';
import type { PendingRegistry } from '../exchange/pending-registry';
import { createHttpServer } from '../ingress/http/create-http-server';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import { listenError } from './listen-error';

/**
 * Listen on REPLYGATE_HOST:REPLYGATE_PORT: http or https (REPLYGATE_TLS_*), with the slow-client
 * timeouts and REPLYGATE_TRUST_PROXY applied. Resolves once listening.
 */
export function listenHttp(app: GatewayApp, config: GatewayConfig, metrics: GatewayMetrics): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createHttpServer(app, config, metrics);
    server.on('error', (err) => reject(listenError(err, config.host, config.port)));
    server.listen(config.port, config.host, () => resolve(server));
    server.keepAliveTimeout = 65_000;
  });
}

/**
 * Let in-flight requests finish for up to `graceMs`, then cancel the rest. Keep-alive clients are
 * told to stop reusing their connection: a request sent on a socket the server is about to close
 * would be dropped instead of refused (and retried elsewhere).
 */
export async function drainHttp(server: Server | undefined, registry: PendingRegistry, graceMs: number): Promise<void> {
  server?.prependListener('request', (_req, res) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  });
  const deadline = Date.now() + graceMs;
  while (registry.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  registry.cancelAll('shutdown');
}

/** Close the server: idle connections now, the rest after a second. */
export function closeHttp(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}
