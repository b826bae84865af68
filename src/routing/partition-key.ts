import type { RouteDefinition } from '../config/routes-file';
import { BadRequestError } from '../errors/http-errors';

/** The parts of a request a partition-key expression can read. */
export interface KeySources {
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, when the body is JSON. */
  body: unknown;
}

/**
 * Evaluate a route's partition-key expression (`params.customerId`, `body.order.id`, …).
 * Only own properties are followed (never the prototype chain), and only strings, numbers and
 * booleans make a key. Returns `undefined` when the value is absent or not a scalar.
 */
export function evaluateKey(expression: string, sources: KeySources): string | undefined {
  const [root, ...path] = expression.split('.');
  let value: unknown;
  switch (root) {
    case 'params':
      value = sources.params;
      break;
    case 'query':
      value = sources.query;
      break;
    case 'header':
      value = sources.headers;
      path[0] = path[0]?.toLowerCase() ?? '';
      break;
    case 'body':
      value = sources.body;
      break;
    default:
      return undefined;
  }
  for (const part of path) {
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(value, part)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[part];
  }
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * The partition key of a request on `route` (HTTP or WebSocket alike): `undefined` for a route
 * without a key expression; a 400 when the route names one and the request does not carry it.
 */
export function requirePartitionKey(route: RouteDefinition, sources: KeySources): string | undefined {
  if (route.key === undefined) return undefined;
  const key = evaluateKey(route.key, sources);
  if (key === undefined) {
    throw new BadRequestError(`Partition key ${route.key} is missing or not a string/number`, {
      details: { key: route.key },
    });
  }
  return key;
}
