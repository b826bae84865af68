import type { RouteDefinition } from '../config/routes-file';

/** The request headers `route` forwards to its service, repeated ones joined with `, `. */
export function forwardedHeaders(
  route: RouteDefinition,
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of route.forwardHeaders) {
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
