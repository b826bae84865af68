import type { RouteDefinition } from '../config/routes-file';
import { BadRequestError } from '../errors/http-errors';
import { entityOf, waiterLifetimeMs, type EventInterest } from '../protocol/event-await';
import { evaluateKey, type KeySources } from './partition-key';

/**
 * What a request on an event route waits for: the values its match rules take from the request
 * (and only from it: a caller can wait on nothing the route does not let it name), hashed into an
 * entity. A value missing from the request is a 400 naming the expression. `undefined` for a
 * route without `await`.
 *
 * @example
 * buildEventInterest(route, { params: { id: 'o-1' }, query: {}, headers: {}, body: undefined }, Date.now());
 */
export function buildEventInterest(
  route: RouteDefinition,
  sources: KeySources,
  now: number,
): EventInterest | undefined {
  const spec = route.await;
  if (spec === undefined) return undefined;
  const values = spec.match.map((rule) => {
    const value = evaluateKey(rule.request, sources);
    if (value === undefined) {
      throw new BadRequestError(`${rule.request} is missing or not a string/number (needed to match ${rule.event})`, {
        details: { match: rule.request },
      });
    }
    return value;
  });
  return {
    route: route.name,
    entity: entityOf(values),
    // Recorded now, before the command is published: see eventIsFresh.
    since: spec.command ? now : 0,
    readState: !spec.command,
    stream: spec.stream,
    maxWaiters: spec.maxWaiters,
    // A route that answers a timeout with 202 keeps waiting for the late event (as `expectUnwaited`
    // keeps an async reply's id), so its fetch finds it; others wait for the route's timeout.
    expiresAt: now + waiterLifetimeMs(route),
  };
}
