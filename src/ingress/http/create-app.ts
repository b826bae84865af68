import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import type { Liveness } from '../../observability/liveness';
import type { Readiness } from '../../observability/readiness';
import { BadRequestError, RouteNotFoundError } from '../../errors/http-errors';
import { sendProblem } from './problem-response';
import { toReplygateError } from '../../errors/to-replygate-error';
import { helmetDefaultHeaders, installSecurityHeaders } from './security-headers';
import { installCorrelationIdHeader } from './correlation-header';
import { GatewayResponse, installGatewayResponseHooks } from './gateway-response';
import { GATEWAY_PATHS, reservedPathOf } from '../../protocol/gateway-paths';
import type { GatewayHandler } from './gateway-handler';
import { requestTargetOf, type RequestTarget, type TrustProxy } from './request-target';

/** What the HTTP layer needs from the replica. */
export interface AppDeps {
  readiness: Readiness;
  /** Components whose long failure fails `/healthz` (none: always alive). */
  liveness?: Liveness;
  metrics: GatewayMetrics;
  log: Logger;
  /** The handler for every path not reserved by the gateway itself. */
  gatewayHandler?: GatewayHandler;
  /** Gateway endpoints mounted before the routes file's routes (e.g. `/v1/replies`). */
  routers?: readonly Router[];
  /** This replica's id: responses that name no request get a fresh `X-Correlation-Id` of it. */
  instanceId?: string;
}

/**
 * The gateway's request listener: a request to a route goes straight to the gateway handler on
 * node's own request and response; everything else (the gateway's reserved paths: health,
 * metrics, admin, OpenAPI, `/v1/replies`) to an express application.
 */
export interface GatewayApp {
  (req: IncomingMessage, res: ServerResponse): void;
  /** The express application behind the reserved paths (REPLYGATE_TRUST_PROXY is set on it). */
  readonly express: Express;
  /**
   * The response class for node's server (`createServer({ ServerResponse })`): helmet's headers
   * and `X-Correlation-Id` added as a response is written, without a prototype swap per request.
   * A response of another server's class gets this prototype on arrival (tests' servers).
   */
  readonly ServerResponse: typeof ServerResponse;
}

/**
 * The gateway's HTTP layer: helmet's default headers on every response (added as it is written),
 * requests to routes straight to the gateway handler, and an express application for health,
 * metrics and the gateway's own routers; a reserved path no router serves ends at the gateway
 * handler too. Anything thrown becomes a problem body.
 */
export function createApp(deps: AppDeps): GatewayApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  const securityHeaders = helmetDefaultHeaders();
  // Per application: the hooks below close over its instance id.
  class AppResponse extends GatewayResponse {}
  for (const proto of [app.response as ServerResponse, AppResponse.prototype]) {
    installSecurityHeaders(proto, securityHeaders);
    if (deps.instanceId !== undefined) installCorrelationIdHeader(proto, deps.instanceId);
  }
  // Outermost, so it runs first: a route's held correlation id before a fresh one is drawn.
  installGatewayResponseHooks(AppResponse.prototype);
  const failed = (res: ServerResponse) => (err: unknown) => answerUnhandled(err, res, deps.log);

  const handler = deps.gatewayHandler;
  if (handler !== undefined) {
    // Reached only by a request express parsed itself (a target not in origin form): a path
    // outside the gateway's own goes to the handler before any router's matching.
    // The handler answers its own failures (runRequest never throws); a throw reaches the error handler below.
    app.use((req, res, next) =>
      reservedPathOf(req.path) === undefined ? handler(req, res, expressTargetOf(req)) : next(),
    );
  }

  app.get(GATEWAY_PATHS.healthz, (_req, res) => {
    const report = deps.liveness?.report();
    if (report === undefined || report.alive) {
      res.json({ status: 'ok' });
      return;
    }
    // 503 naming what has not recovered: an orchestrator's liveness probe restarts the process.
    res.status(503).json({ status: 'failing', failing: report.failing });
  });
  app.get(GATEWAY_PATHS.readyz, (_req, res) => {
    const report = deps.readiness.report();
    if (!report.ready) res.setHeader(HTTP_HEADERS.retryAfter, '1');
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not-ready', ...report });
  });
  app.get(GATEWAY_PATHS.metrics, async (_req, res) => {
    res.setHeader('content-type', deps.metrics.registry.contentType);
    res.end(await deps.metrics.registry.metrics());
  });

  for (const router of deps.routers ?? []) app.use(router);

  if (handler !== undefined) {
    app.use((req, res) => handler(req, res, expressTargetOf(req)));
  } else {
    app.use((req, res) => sendProblem(res, new RouteNotFoundError(req.method, req.path)));
  }

  // express calls this for errors thrown before a handler ran, e.g. a malformed URL.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => failed(res)(err));

  const trust = (): TrustProxy => app.get('trust proxy fn') as TrustProxy;
  const isRoutePath = (path: string): boolean => reservedPathOf(path) === undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (handler !== undefined) {
      // A reserved path (health probes, metrics) costs no client-address work here.
      const target = requestTargetOf(req, trust(), isRoutePath);
      if (target !== undefined) {
        if (!(res instanceof AppResponse)) Object.setPrototypeOf(res, AppResponse.prototype);
        try {
          handler(req, res, target);
        } catch (err) {
          failed(res)(err);
        }
        return;
      }
    }
    app(req, res);
  };
  return Object.assign(listener, { express: app, ServerResponse: AppResponse as typeof ServerResponse });
}

/** The target of a request express has parsed (`req.path`, `req.ip` with its `trust proxy`). */
function expressTargetOf(req: Request): RequestTarget {
  const q = req.originalUrl.indexOf('?');
  return {
    path: req.path,
    search: q < 0 ? '' : req.originalUrl.slice(q + 1),
    clientIp: req.ip,
    url: req.originalUrl,
  };
}

/** Answer what a handler threw (or express reported) as a problem; log what is not ours. */
function answerUnhandled(err: unknown, res: ServerResponse, log: Logger): void {
  const status = (err as { status?: number }).status;
  const error = status === 400 ? new BadRequestError('Malformed request', { cause: err }) : toReplygateError(err);
  if (error.code === 'RG_INTERNAL') log.error({ err }, 'unhandled error in HTTP layer');
  sendProblem(res, error);
}
