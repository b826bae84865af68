import type { CallbackUrlProblem } from '../errors/callback-errors';

/** The result of checking a callback URL against a route's allow-list. */
export type CallbackUrlCheck = { ok: true; url: string } | { ok: false; problem: CallbackUrlProblem };

/**
 * Normalise an allow-list entry: an absolute http(s) URL without credentials, serialised by the
 * WHATWG URL parser (so `HTTP://Host:80` and `http://host/` compare equal). Returns `undefined`
 * for an entry that is not one.
 */
export function normalizeAllowPrefix(entry: string): string | undefined {
  const url = parseHttpUrl(entry);
  if (url === undefined || typeof url === 'string') return undefined;
  return url.href;
}

/**
 * Check a client-supplied callback URL against normalised allow-list prefixes. Only http and https,
 * no user-info, and the URL must start with an allowed prefix at a boundary: a prefix
 * `https://hooks.example.com/a` allows `/a`, `/a/b`, `/a?x` but not `/ab`. Nothing is resolved:
 * the decision is on the parsed text only, so the gateway never probes an address for a client.
 */
export function checkCallbackUrl(candidate: string, allow: readonly string[]): CallbackUrlCheck {
  if (candidate.length > 2048) return { ok: false, problem: 'not-a-url' };
  const url = parseHttpUrl(candidate);
  if (url === undefined) return { ok: false, problem: 'not-a-url' };
  if (typeof url === 'string') return { ok: false, problem: url };
  const href = url.href;
  const allowed = allow.some((prefix) => {
    if (!href.startsWith(prefix)) return false;
    if (prefix.endsWith('/') || href.length === prefix.length) return true;
    const next = href[prefix.length];
    return next === '/' || next === '?' || next === '#';
  });
  return allowed ? { ok: true, url: href } : { ok: false, problem: 'not-allowed' };
}

function parseHttpUrl(text: string): URL | 'scheme' | 'credentials' | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme';
  if (url.username !== '' || url.password !== '') return 'credentials';
  return url;
}
