import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsSpec } from '../config/route-security';
import type { RouteDefinition } from '../config/routes-file';
import { ForbiddenError } from '../errors/auth-errors';
import type { AdmissionContext, RequestStage } from './admission-context';
import type { RouteMatcher } from '../routing/route-matcher';
import { HTTP_HEADERS } from '../protocol/http-headers';

/** Response headers a browser script may read on a cross-origin answer. */
const EXPOSED_HEADERS = [
  HTTP_HEADERS.correlationId,
  'retry-after',
  HTTP_HEADERS.idempotentReplayed,
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  'www-authenticate',
].join(', ');

/** Request headers every CORS route allows besides its forwarded ones. */
const BASE_ALLOWED_HEADERS = ['content-type', 'authorization', HTTP_HEADERS.apiKey, HTTP_HEADERS.idempotencyKey];

/**
 * The CORS stage for actual (non-preflight) requests: when the route has `cors` and the request's
 * `Origin` is allowed, add `Access-Control-Allow-Origin` (and `-Credentials`, `-Expose-Headers`).
 * Runs first, so a 401 or 429 from a later stage is readable by the browser script too. A request
 * from an origin not listed gets no CORS headers: the browser withholds the answer.
 *
 * @example
 * const stages = [createCorsStage(), createAuthStage(auth)];
 */
export function createCorsStage(): RequestStage {
  return function corsStage(ctx: AdmissionContext): void {
    const cors = ctx.route.cors;
    if (cors === undefined) return;
    ctx.appendHeader('vary', 'Origin');
    const origin = ctx.headers.origin;
    if (origin === undefined || !originAllowed(cors, origin)) return;
    setAllowOrigin(ctx, cors, origin);
    ctx.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  };
}

/**
 * Answer a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) for the
 * route the browser asks about. Runs before every stage: browsers send no credentials on a
 * preflight. Returns the route when answered (204); `undefined` when the request is not a
 * preflight for a route with `cors` (the caller carries on, and `OPTIONS` is answered 405 as
 * before). An origin the route does not list gets 403 `RG_FORBIDDEN`.
 */
export function answerCorsPreflight(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  matcher: RouteMatcher,
): RouteDefinition | undefined {
  const requested = req.headers['access-control-request-method'];
  const origin = req.headers.origin;
  if (req.method !== 'OPTIONS' || typeof requested !== 'string' || origin === undefined) return undefined;
  const { route } = matcher.match(requested.trim().toUpperCase(), path);
  const cors = route.cors;
  if (cors === undefined) return undefined;
  res.setHeader('vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
  if (!originAllowed(cors, origin)) throw new ForbiddenError(`Origin ${origin.slice(0, 128)} may not call this route`);
  setAllowOrigin(res, cors, origin);
  // HEAD is not served (405): it would publish a request only to drop the reply.
  res.setHeader('access-control-allow-methods', route.method);
  const allowed = new Set([...BASE_ALLOWED_HEADERS, ...route.forwardHeaders.filter((h) => h !== 'cookie')]);
  res.setHeader('access-control-allow-headers', [...allowed].join(', '));
  res.setHeader('access-control-max-age', String(cors.maxAgeSec));
  res.statusCode = 204;
  res.end();
  return route;
}

function originAllowed(cors: CorsSpec, origin: string): boolean {
  return cors.origins.includes('*') || cors.origins.includes(origin);
}

function setAllowOrigin(
  res: { setHeader(name: string, value: string): unknown },
  cors: CorsSpec,
  origin: string,
): void {
  // `*` only without credentials (the schema refuses the combination); otherwise echo the one origin.
  const wildcard = cors.origins.includes('*') && !cors.credentials;
  res.setHeader('access-control-allow-origin', wildcard ? '*' : origin);
  if (cors.credentials) res.setHeader('access-control-allow-credentials', 'true');
}
