import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { RouteDefinition } from '../../config/routes-file';
import { AdminUnauthorizedError, RoutesInvalidError } from '../../errors/admin-errors';
import { RouteNotFoundError } from '../../errors/http-errors';
import { sendProblem } from '../http/problem-response';
import type { RouteReloadResult } from '../../routing/route-table';
import { GATEWAY_PATHS } from '../../protocol/gateway-paths';

/** What the admin endpoints read and do. */
export interface AdminDeps {
  /** REPLYGATE_ADMIN_TOKEN; without it every `/admin` path answers 404. */
  token: string | undefined;
  /** The routes in force. */
  routes: () => readonly RouteDefinition[];
  /** Parked requests now, in total and by route. */
  pending: () => { total: number; limit: number; byRoute: Record<string, number> };
  /** Non-secret settings (see `adminSettings`). */
  settings: () => Record<string, unknown>;
  /** Reload the routes file. */
  reload: () => RouteReloadResult;
}

/** Hash first, so the comparison takes the same time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Whether an `Authorization` header carries the admin token (constant-time comparison). */
export function adminTokenMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = digest(match?.[1] ?? '');
  // Always compare, even without a header: no early return whose timing says what was wrong.
  return timingSafeEqual(presented, digest(token)) && match !== null;
}

/**
 * `GET /admin/routes`, `GET /admin/pending`, `GET /admin/settings`, `POST /admin/reload`, behind
 * their own bearer token (REPLYGATE_ADMIN_TOKEN), separate from any client credential. With no
 * token set the admin API is off and its paths answer 404 (they are never routed to a service).
 */
export function createAdminRouter(deps: AdminDeps): Router {
  const router = Router();
  const token = deps.token;
  if (token === undefined || token === '') {
    router.use(GATEWAY_PATHS.admin, (req, res) =>
      sendProblem(res, new RouteNotFoundError(req.method, req.originalUrl)),
    );
    return router;
  }
  router.use(GATEWAY_PATHS.admin, (req: Request, res: Response, next: NextFunction) => {
    res.setHeader('cache-control', 'no-store');
    if (adminTokenMatches(req.headers.authorization, token)) return next();
    res.setHeader('www-authenticate', 'Bearer realm="replygate-admin"');
    sendProblem(res, new AdminUnauthorizedError());
  });
  router.get(`${GATEWAY_PATHS.admin}/routes`, (_req, res) => {
    res.json({ routes: deps.routes() });
  });
  router.get(`${GATEWAY_PATHS.admin}/pending`, (_req, res) => {
    res.json(deps.pending());
  });
  router.get(`${GATEWAY_PATHS.admin}/settings`, (_req, res) => {
    res.json(deps.settings());
  });
  router.post(`${GATEWAY_PATHS.admin}/reload`, (_req, res) => {
    const result = deps.reload();
    if (!result.ok) return sendProblem(res, new RoutesInvalidError(result.issues));
    res.json({ reloaded: true, file: result.file, routes: result.routes });
  });
  router.use(GATEWAY_PATHS.admin, (req, res) => sendProblem(res, new RouteNotFoundError(req.method, req.originalUrl)));
  return router;
}
