import type { IncomingMessage } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import proxyAddr from 'proxy-addr';

/**
 * Which peers may set `X-Forwarded-For` (REPLYGATE_TRUST_PROXY), compiled: given an address and
 * its hop index, whether that hop is trusted. The function express compiles for `trust proxy`.
 */
export type TrustProxy = (address: string, hop: number) => boolean;

/** What the gateway handler needs of a request's target, read without express. */
export interface RequestTarget {
  /** The path, as sent (not decoded), without the query: what routes match on. */
  readonly path: string;
  /** The query string after `?` (empty without one). */
  readonly search: string;
  /** The client address, through the trusted proxies' `X-Forwarded-For`. */
  readonly clientIp: string | undefined;
  /** The request target as sent (path and query): what an idempotency fingerprint covers. */
  readonly url: string;
}

/**
 * The target of a request in origin form (`/path?query`, what every client sends) whose path
 * `wanted` accepts, or `undefined` for any other form (absolute URL, `*`): those go the express
 * way, which parses them. The path is what express' `req.path` would be for an origin-form
 * target. The client address (proxy-addr) is worked out only for a wanted path.
 */
export function requestTargetOf(
  req: IncomingMessage,
  trust: TrustProxy,
  wanted: (path: string) => boolean = () => true,
): RequestTarget | undefined {
  const url = req.url ?? '';
  if (url.charCodeAt(0) !== 0x2f /* / */) return undefined;
  let end = url.length;
  const q = url.indexOf('?');
  const h = url.indexOf('#');
  if (h >= 0) end = h;
  if (q >= 0 && q < end) end = q;
  const path = url.slice(0, end);
  if (!wanted(path)) return undefined;
  return {
    path,
    search: q >= 0 && (h < 0 || q < h) ? url.slice(q + 1, h >= 0 ? h : undefined) : '',
    clientIp: proxyAddr(req, trust),
    url,
  };
}

/** The query of a request without one: shared, frozen, without a prototype. */
const NO_QUERY: Record<string, unknown> = Object.freeze(Object.create(null) as Record<string, unknown>);

/**
 * The query as express' `simple` parser gives it (node's `querystring`: repeated names become
 * arrays), in an object without a prototype, so `__proto__` is just a name. A request without a
 * query gets one shared frozen empty object (a fresh prototype-less object is a dictionary of
 * ~200 B, held as long as the request is parked).
 */
export function queryOf(search: string): Record<string, unknown> {
  if (search === '') return NO_QUERY;
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [k, v] of Object.entries(parseQueryString(search))) out[k] = v;
  return out;
}
