import type { CallerIdentity } from '../protocol/caller-identity';

/**
 * The scope an `Idempotency-Key` is claimed in: the route **and** the caller, so one caller's key
 * can never replay (or reveal) another caller's request.
 *
 * - Authenticated callers: their principal (a hash of the API key id or of the JWT issuer and
 *   subject), the same identity rate limits and reply bindings use.
 * - Anonymous callers: their client address as express sees it (`req.ip`, which honours
 *   `REPLYGATE_TRUST_PROXY`), the same identity anonymous rate limits use. Callers that share an
 *   address (NAT, or a proxy the gateway is not told to trust) share a scope, so keys there must be
 *   unguessable (e.g. UUIDv4); routes that need more put `auth` on the route.
 *
 * @example
 * idempotencyScope('create-order', undefined, '203.0.113.7'); // 'create-order\0ip:203.0.113.7'
 */
export function idempotencyScope(
  route: string,
  identity: CallerIdentity | undefined,
  clientIp: string | undefined,
): string {
  return `${route}\0${callerKey(identity, clientIp)}`;
}

/**
 * Who is calling, as one string: `p:<principal>` when authenticated, else `ip:<client address>`.
 *
 * @example
 * callerKey(undefined, '203.0.113.7'); // 'ip:203.0.113.7'
 */
export function callerKey(identity: CallerIdentity | undefined, clientIp: string | undefined): string {
  return identity !== undefined ? `p:${identity.principal}` : `ip:${clientIp ?? 'unknown'}`;
}
