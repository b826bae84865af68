import type { RouteDefinition } from '../config/routes-file';
import { BadRequestError } from '../errors/http-errors';
import {
  entityOf,
  isReplyExpression,
  waiterLifetimeMs,
  type EventInterest,
  type EventMatchRule,
  type PendingMatchValue,
  type ReplyInterestResolver,
} from '../protocol/event-await';
import { evaluateKey, type KeySources } from './partition-key';

/**
 * What a request on an event route waits for: the values its match rules take from the request
 * (and only from it: a caller can wait on nothing the route does not let it name), hashed into an
 * entity. A value missing from the request is a 400 naming the expression. `undefined` for a
 * route without `await`. On a route whose rules read the command's reply (`reply.…`) the entity
 * is left open (`pending`) until that reply is in: see {@link resolveReplyInterest}.
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
  const since = spec.command ? now : 0;
  const base = {
    route: route.name,
    // Recorded now, before the command is published: see eventIsFresh.
    since,
    stream: spec.stream,
    maxWaiters: spec.maxWaiters,
    // A route that answers a timeout with 202 keeps waiting for the late event (as `expectUnwaited`
    // keeps an async reply's id), so its fetch finds it; others wait for the route's timeout.
    expiresAt: now + waiterLifetimeMs(route),
  };
  if (spec.fromReply) {
    // The reply's values are read once it is in (EventAwaitPublisher); the request's are read now,
    // so a request missing one is still a 400 before anything is published.
    const pending = spec.match.map((rule): PendingMatchValue => {
      if (isReplyExpression(rule.request)) return { reply: rule.request };
      return { value: requireValue(rule, sources) };
    });
    return { ...base, entity: '', readState: true, pending };
  }
  const values = spec.match.map((rule) => requireValue(rule, sources));
  return { ...base, entity: entityOf(values), readState: !spec.command };
}

function requireValue(rule: EventMatchRule, sources: KeySources): string {
  const value = evaluateKey(rule.request, sources);
  if (value === undefined) {
    throw new BadRequestError(`${rule.request} is missing or not a string/number (needed to match ${rule.event})`, {
      details: { match: rule.request },
    });
  }
  return value;
}

/**
 * Complete a `fromReply` interest with the command's reply: read each `reply.body.<path>` from the
 * reply's JSON body and `reply.header.<name>` from its headers, with the same rules as a request
 * expression (own properties, scalars only), then hash all values into the entity. The values are
 * the service's own answer to this caller's command, compared for equality and hashed: a caller
 * still names nothing it did not send or get back.
 *
 * @example
 * resolveReplyInterest(interest, { headers: {}, body: { orderId: 'o-9' } }); // { ...interest, entity }
 */
export const resolveReplyInterest: ReplyInterestResolver = (interest, reply) => {
  const values: string[] = [];
  for (const part of interest.pending ?? []) {
    if ('value' in part) {
      values.push(part.value);
      continue;
    }
    const value = evaluateKey(part.reply.slice('reply.'.length), {
      params: {},
      query: {},
      headers: reply.headers,
      body: reply.body,
    });
    if (value === undefined) return { missing: part.reply };
    values.push(value);
  }
  return { ...interest, entity: entityOf(values), pending: undefined };
};
