/**
 * Paths the gateway serves itself (health, metrics, fetchable replies, OpenAPI, admin, the
 * WebSocket endpoint); a route may not take them or anything below them. Declared once: the
 * routes file check and the HTTP layer read this list.
 */
export const GATEWAY_PATHS = {
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
  replies: '/v1/replies',
  ws: '/v1/ws',
  openapi: '/openapi.json',
  admin: '/admin',
} as const;

/** Every path in {@link GATEWAY_PATHS}, in the order the routes file check reports them. */
export const RESERVED_PATHS = [
  GATEWAY_PATHS.healthz,
  GATEWAY_PATHS.readyz,
  GATEWAY_PATHS.metrics,
  GATEWAY_PATHS.replies,
  GATEWAY_PATHS.ws,
  GATEWAY_PATHS.openapi,
  GATEWAY_PATHS.admin,
] as const;

/**
 * The normal form paths are compared in. Matching is case-insensitive everywhere, as express
 * matches its own endpoints (`/Metrics` reaches the metrics handler): the route matcher compares
 * literal segments in this form, and a route is checked against {@link RESERVED_PATHS} and
 * against other routes in it, so no route can load that a request could never reach.
 */
export function pathMatchKey(path: string): string {
  return path.toLowerCase();
}

/**
 * The reserved path that `path` (a route template) is, or lies under, or `undefined`.
 *
 * @example
 * reservedPathOf('/Admin/routes'); // '/admin'
 * reservedPathOf('/orders');       // undefined
 */
export function reservedPathOf(path: string): (typeof RESERVED_PATHS)[number] | undefined {
  const key = pathMatchKey(path);
  return RESERVED_PATHS.find((p) => key === p || key.startsWith(`${p}/`));
}
