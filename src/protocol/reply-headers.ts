import { HTTP_HEADERS } from './http-headers';
import { ReplyMalformedError } from '../errors/reply-errors';

/** Why a reply header is the gateway's, not the service's: the family it is counted under. */
export type DeniedHeaderFamily = 'hop-by-hop' | 'framing' | 'security' | 'cors' | 'cookie' | 'gateway';

/** Caps on the headers one reply may set (`rg-headers`). */
export interface ReplyHeaderLimits {
  /** Most headers a reply may set. @defaultValue 64 (REPLYGATE_MAX_REPLY_HEADERS) */
  maxCount: number;
  /** Most bytes of names plus values together. @defaultValue 16384 (REPLYGATE_MAX_REPLY_HEADER_BYTES) */
  maxBytes: number;
}

/** The defaults of REPLYGATE_MAX_REPLY_HEADERS and REPLYGATE_MAX_REPLY_HEADER_BYTES. */
export const DEFAULT_REPLY_HEADER_LIMITS: Readonly<ReplyHeaderLimits> = { maxCount: 64, maxBytes: 16 * 1024 };

/**
 * Response headers a service may not set, by name. The gateway owns the connection and framing
 * (it decodes and re-frames the body), the security headers (helmet's, one policy for every
 * route), CORS (route `cors` settings only), cookies, and the headers that describe its own
 * behaviour. Everything else (Cache-Control, ETag, Location, Retry-After, Vary, X-*) is the service's.
 */
const DENIED: Readonly<Record<string, DeniedHeaderFamily>> = {
  connection: 'hop-by-hop',
  'keep-alive': 'hop-by-hop',
  'proxy-authenticate': 'hop-by-hop',
  'proxy-authorization': 'hop-by-hop',
  'proxy-connection': 'hop-by-hop',
  te: 'hop-by-hop',
  trailer: 'hop-by-hop',
  'transfer-encoding': 'hop-by-hop',
  upgrade: 'hop-by-hop',
  'content-encoding': 'framing',
  'content-length': 'framing',
  'content-type': 'framing',
  'content-security-policy': 'security',
  'content-security-policy-report-only': 'security',
  'cross-origin-embedder-policy': 'security',
  'cross-origin-opener-policy': 'security',
  'cross-origin-resource-policy': 'security',
  'origin-agent-cluster': 'security',
  'permissions-policy': 'security',
  'referrer-policy': 'security',
  'strict-transport-security': 'security',
  'x-content-type-options': 'security',
  'x-dns-prefetch-control': 'security',
  'x-download-options': 'security',
  'x-frame-options': 'security',
  'x-permitted-cross-domain-policies': 'security',
  'x-xss-protection': 'security',
  'set-cookie': 'cookie',
  date: 'gateway',
  server: 'gateway',
  [HTTP_HEADERS.correlationId]: 'gateway',
  [HTTP_HEADERS.idempotentReplayed]: 'gateway',
  traceparent: 'gateway',
  tracestate: 'gateway',
};

/** Denied name prefixes: whole families the gateway sets. */
const DENIED_PREFIXES: readonly (readonly [string, DeniedHeaderFamily])[] = [
  ['access-control-', 'cors'],
  ['replygate-', 'gateway'],
  ['x-replygate-', 'gateway'],
  ['rg-', 'gateway'],
  ['ratelimit', 'gateway'], // RateLimit, RateLimit-Policy, RateLimit-Limit/-Remaining/-Reset
];

/**
 * The family a lower-case reply header name is denied under, or `undefined` when a service may set it.
 *
 * @example
 * deniedReplyHeader('access-control-allow-origin'); // 'cors'
 * deniedReplyHeader('etag');                        // undefined
 */
export function deniedReplyHeader(lowerName: string): DeniedHeaderFamily | undefined {
  return DENIED[lowerName] ?? DENIED_PREFIXES.find(([prefix]) => lowerName.startsWith(prefix))?.[1];
}

/** A header a service set that the gateway dropped. */
export interface DroppedHeader {
  name: string;
  family: DeniedHeaderFamily;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Visible ASCII plus space/tab only: rejects CR/LF (response splitting) and other control bytes. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]{0,8192}$/;

/**
 * The one rule for the headers of a reply (`rg-headers`), wherever the reply goes (HTTP, stream,
 * fetch, SSE, WebSocket, webhook): over `limits` the reply is unusable (502 naming the cap and
 * its setting); a bad name or value too (502); a denied header is dropped and reported, the
 * rest kept with lower-case names.
 */
export function filterReplyHeaders(
  parsed: Record<string, unknown>,
  limits: ReplyHeaderLimits,
  correlationId: string,
): { headers: Record<string, string>; dropped: DroppedHeader[] } {
  const entries = Object.entries(parsed);
  if (entries.length > limits.maxCount) {
    throw new ReplyMalformedError(
      `reply sets ${entries.length} headers; at most ${limits.maxCount} are allowed (REPLYGATE_MAX_REPLY_HEADERS)`,
      { correlationId },
    );
  }
  const headers: Record<string, string> = {};
  const dropped: DroppedHeader[] = [];
  let bytes = 0;
  for (const [name, value] of entries) {
    if (typeof value !== 'string' || !HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw new ReplyMalformedError(`response header "${name.slice(0, 64)}" is invalid`, { correlationId });
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    if (bytes > limits.maxBytes) {
      throw new ReplyMalformedError(
        `reply headers exceed ${limits.maxBytes} bytes (REPLYGATE_MAX_REPLY_HEADER_BYTES)`,
        { correlationId },
      );
    }
    const lower = name.toLowerCase();
    const family = deniedReplyHeader(lower);
    if (family === undefined) headers[lower] = value;
    else dropped.push({ name: lower, family });
  }
  return { headers, dropped };
}
