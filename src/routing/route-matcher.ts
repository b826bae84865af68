import { pathMatchKey } from '../protocol/gateway-paths';
import type { RouteDefinition } from '../config/routes-file';
import { BadRequestError, MethodNotAllowedError, RouteNotFoundError } from '../errors/http-errors';

/** A route that matched a request, with its decoded path parameters. */
export interface RouteMatch {
  route: RouteDefinition;
  params: Record<string, string>;
}

interface CompiledRoute {
  route: RouteDefinition;
  /** Literal segment text in {@link pathMatchKey} form, or `null` for a parameter (its name is in `names`). */
  segments: (string | null)[];
  names: (string | undefined)[];
  /** Literal segments count: more literals win over parameters. */
  specificity: number;
}

/**
 * Matches request paths against the route table. Segments are compared after percent-decoding
 * and case-insensitively (as express matches the gateway's own endpoints; parameter values keep
 * their case); a literal segment beats a parameter at the same position. `HEAD` matches no route:
 * answering it would mean publishing a request to the service only to throw the body away, so it
 * gets 405 with the route's methods in `Allow`. Lookup is by segment count first,
 * so the cost grows with routes of the same depth only.
 */
export class RouteMatcher {
  private readonly byDepth = new Map<number, CompiledRoute[]>();

  constructor(routes: readonly RouteDefinition[]) {
    for (const route of routes) {
      const parts = route.path === '/' ? [] : route.path.slice(1).split('/');
      const compiled: CompiledRoute = {
        route,
        segments: parts.map((p) => (p.startsWith(':') ? null : pathMatchKey(p))),
        names: parts.map((p) => (p.startsWith(':') ? p.slice(1) : undefined)),
        specificity: parts.filter((p) => !p.startsWith(':')).length,
      };
      const list = this.byDepth.get(parts.length) ?? [];
      list.push(compiled);
      list.sort((a, b) => b.specificity - a.specificity);
      this.byDepth.set(parts.length, list);
    }
  }

  /**
   * Find the route for `method` and `path` (no query string). Throws {@link RouteNotFoundError},
   * {@link MethodNotAllowedError}, or {@link BadRequestError} for a malformed percent-encoding.
   */
  match(method: string, path: string): RouteMatch {
    const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const raw = trimmed === '/' || trimmed === '' ? [] : trimmed.slice(1).split('/');
    const decoded: string[] = [];
    for (const segment of raw) {
      try {
        decoded.push(decodeURIComponent(segment));
      } catch {
        throw new BadRequestError(`Path segment "${segment.slice(0, 64)}" is not valid percent-encoding`);
      }
    }
    const candidates = this.byDepth.get(decoded.length) ?? [];
    const allowed: string[] = [];
    for (const c of candidates) {
      const params = matchSegments(c, decoded);
      if (params === undefined) continue;
      if (c.route.method === method) {
        return { route: c.route, params };
      }
      allowed.push(c.route.method);
    }
    if (allowed.length > 0) throw new MethodNotAllowedError(method, path, [...new Set(allowed)]);
    throw new RouteNotFoundError(method, path);
  }
}

/** The parameters of a route without any: shared and frozen. */
const NO_PARAMS: Record<string, string> = Object.freeze(Object.create(null) as Record<string, string>);

function matchSegments(c: CompiledRoute, decoded: readonly string[]): Record<string, string> | undefined {
  // A plain object without prototype: parameter names like "__proto__" cannot reach Object.prototype.
  // Made only for a route with parameters (a fresh one is a ~200 B dictionary, held while parked).
  let params: Record<string, string> | undefined;
  for (let i = 0; i < decoded.length; i++) {
    const literal = c.segments[i];
    const value = decoded[i] as string;
    if (literal === null) {
      if (value === '') return undefined;
      params ??= Object.create(null) as Record<string, string>;
      params[c.names[i] as string] = value;
    } else if (literal !== pathMatchKey(value)) {
      return undefined;
    }
  }
  return params ?? NO_PARAMS;
}
