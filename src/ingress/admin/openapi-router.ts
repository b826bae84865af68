import { Router } from 'express';
import type { RouteDefinition } from '../../config/routes-file';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document';
import { GATEWAY_PATHS } from '../../protocol/gateway-paths';

/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of the routes in force. Rebuilt only when the
 * route table changed (a reload), so serving it costs a cached JSON string.
 */
export function createOpenApiRouter(routes: () => readonly RouteDefinition[]): Router {
  const router = Router();
  let cache: { routes: readonly RouteDefinition[]; json: string } | undefined;
  router.get(GATEWAY_PATHS.openapi, (_req, res) => {
    const current = routes();
    if (cache?.routes !== current) {
      const doc: OpenApiDocument = buildOpenApiDocument(current);
      cache = { routes: current, json: JSON.stringify(doc) };
    }
    res.type('application/json').send(cache.json);
  });
  return router;
}
