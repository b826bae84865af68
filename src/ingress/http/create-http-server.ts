import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { GatewayApp } from './create-app';
import type { GatewayConfig } from '../../config/gateway-config';
import { ConfigError } from '../../errors/startup-errors';
import { answerExpectationFailed } from './correlation-header';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import { answerClientError } from './client-error';

/**
 * How often node looks for connections past their header or request deadline. Its default (30 s)
 * would let a slow client hold a socket up to 30 s beyond the configured timeout.
 */
const CHECK_INTERVAL_MS = 1000;

/** The settings that shape the listening server. */
export type HttpServerSettings = Pick<
  GatewayConfig,
  'tlsCertFile' | 'tlsKeyFile' | 'headersTimeoutMs' | 'requestTimeoutMs' | 'trustProxy'
> &
  Partial<Pick<GatewayConfig, 'instanceId'>>;

/**
 * The server in front of the app, hardened against slow clients: headers must arrive within
 * REPLYGATE_HEADERS_TIMEOUT_MS and the whole request (body included, not the wait for the reply)
 * within REPLYGATE_REQUEST_TIMEOUT_MS. Serves https when REPLYGATE_TLS_CERT_FILE and
 * REPLYGATE_TLS_KEY_FILE are set. Also applies REPLYGATE_TRUST_PROXY to the app. A request the
 * server refuses before express sees it (too slow: 408, malformed: 400, headers too large: 431) gets
 * a problem body and is counted in `metrics`. Not listening yet.
 *
 * @example
 * const server = createHttpServer(app, config);
 * server.listen(config.port, config.host);
 */
export function createHttpServer(app: GatewayApp, settings: HttpServerSettings, metrics?: GatewayMetrics): Server {
  app.express.set('trust proxy', settings.trustProxy);
  const { tlsCertFile, tlsKeyFile } = settings;
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) {
    const issue =
      'REPLYGATE_TLS_CERT_FILE (--tls-cert-file) and REPLYGATE_TLS_KEY_FILE (--tls-key-file): set both or neither';
    throw new ConfigError(`Invalid configuration:\n  ${issue}`, [issue]);
  }
  const server: Server =
    tlsCertFile !== undefined && tlsKeyFile !== undefined
      ? createHttpsServer(
          {
            cert: read(tlsCertFile, 'REPLYGATE_TLS_CERT_FILE'),
            key: read(tlsKeyFile, 'REPLYGATE_TLS_KEY_FILE'),
            connectionsCheckingInterval: CHECK_INTERVAL_MS,
            ServerResponse: app.ServerResponse,
          },
          app,
        )
      : createServer({ connectionsCheckingInterval: CHECK_INTERVAL_MS, ServerResponse: app.ServerResponse }, app);
  server.requestTimeout = settings.requestTimeoutMs;
  // Node expects headersTimeout <= requestTimeout.
  server.headersTimeout = Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs);
  // An Expect other than 100-continue: a problem body with X-Correlation-Id, not node's bare 417.
  if (settings.instanceId !== undefined) server.on('checkExpectation', answerExpectationFailed(settings.instanceId));
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => answerClientError(err, socket, metrics));
  return server;
}

function read(path: string, env: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`${env}: cannot read ${path}: ${(cause as Error).message}`, [], { cause });
  }
}
