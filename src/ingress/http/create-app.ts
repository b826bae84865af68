import { HTTP_HEADERS } from '../../protocol/http-headers';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../observability/logger';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import type { Liveness } from '../../observability/liveness';
import type { Readiness } from '../../observability/readiness';
import { BadRequestError, RouteNotFoundError } from '../../errors/http-errors';
import { sendProblem } from './problem-response';
import { toReplygateError } from '../../errors/to-replygate-error';
import { installSecurityHeaders } from './security-headers';
import { installCorrelationIdHeader } from './correlation-header';
import { GATEWAY_PATHS, reservedPathOf } from '../../protocol/gateway-paths';

/** What the HTTP layer needs from the replica. */
export interface AppDeps {
  readiness: Readiness;
  /** Components whose long failure fails `/healthz` (none: always alive). */
  liveness?: Liveness;
  metrics: GatewayMetrics;
  log: Logger;
  /** The handler for every path not reserved by the gateway itself. */
  gatewayHandler?: (req: Request, res: Response) => Promise<void>;
  /** Gateway endpoints mounted before the routes file's routes (e.g. `/v1/replies`). */
  routers?: readonly Router[];
  /** This replica's id: responses that name no request get a fresh `X-Correlation-Id` of it. */
  instanceId?: string;
}

/**
 * The express application: helmet's default headers on every response (added as it is written),
 * health and metrics endpoints, then every other request to the gateway handler. One error
 * handler turns anything thrown into a problem body.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  installSecurityHeaders(app);
  if (deps.instanceId !== undefined) installCorrelationIdHeader(app, deps.instanceId);

  const handler = deps.gatewayHandler;
  if (handler !== undefined) {
    // A path outside the gateway's own (RESERVED_PATHS, which no route may use) can only be a
    // route: hand it over at once instead of through every router's matching. Reserved paths
    // take the way below, ending at the same handler when no router serves them.
    // Returned, so express 5 passes a rejection to the error handler below, as for the catch-all.
    app.use((req, res, next) => (reservedPathOf(req.path) === undefined ? handler(req, res) : next()));
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
    app.use((req, res) => handler(req, res));
  } else {
    app.use((req, res) => sendProblem(res, new RouteNotFoundError(req.method, req.path)));
  }

  // express calls this for errors thrown before a handler ran, e.g. a malformed URL.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    const error = status === 400 ? new BadRequestError('Malformed request', { cause: err }) : toReplygateError(err);
    if (error.code === 'RG_INTERNAL') deps.log.error({ err }, 'unhandled error in HTTP layer');
    sendProblem(res, error);
  });
  return app;
}
