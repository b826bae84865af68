import type { KafkaMessage } from 'kafkajs';
import { entityOf, type RouteAwait } from '../protocol/event-await';
import { headerString, type RawHeaders } from '../protocol/kafka-headers';
import type { ReplyEnvelopeMeta } from '../protocol/reply-envelope';

/** One event route as the event relay applies it. */
export interface EventRule {
  route: string;
  await: RouteAwait;
  /** Events older than this (ms before now) can answer nobody and are not kept: skipped. */
  horizonMs: number;
}

/** Why an event was skipped before any rule was tried. */
export type EventSkipReason = 'too-large' | 'not-json' | 'tombstone';

/** What one rule makes of one event that matched it. */
export interface RuleMatch {
  rule: EventRule;
  entity: string;
  /** The event satisfies the route: its state is one of `state.in`, or the route has no predicate. */
  satisfies: boolean;
  /** The reply to store (its `id` is set per waiter): status from the state map, the event value as body. */
  meta: ReplyEnvelopeMeta;
  body: Buffer;
  /** The event's Kafka timestamp (epoch ms). */
  timestamp: number;
}

/** The outcome of decoding one event against the rules of its topic. */
export type DecodedEvent = { ok: true; matches: RuleMatch[] } | { ok: false; reason: EventSkipReason };

/**
 * Match one event against the rules of its topic. Pure and bounded: a value over `maxBytes` or not
 * JSON is skipped (the caller counts it) before it is parsed or looked at, and paths follow own
 * properties only. A rule whose fields are missing from the event matches nothing.
 *
 * @example
 * decodeEvent(message, rules, { topic, partition, maxBytes: 1 << 20, now: Date.now() });
 */
export function decodeEvent(
  message: KafkaMessage,
  rules: readonly EventRule[],
  at: { topic: string; partition: number; maxBytes: number; now: number },
): DecodedEvent {
  const raw = message.value;
  if (raw === null || raw === undefined || raw.length === 0) return { ok: false, reason: 'tombstone' };
  if (raw.length > at.maxBytes) return { ok: false, reason: 'too-large' };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  const timestamp = Number(message.timestamp);
  const headers = message.headers as RawHeaders | undefined;
  const read = (path: string): string | undefined => readEventField(path, message.key, headers, value);
  const matches: RuleMatch[] = [];
  for (const rule of rules) {
    if (timestamp < at.now - rule.horizonMs) continue;
    const values: string[] = [];
    for (const m of rule.await.match) {
      const v = read(m.event);
      if (v === undefined) break;
      values.push(v);
    }
    if (values.length !== rule.await.match.length) continue;
    const predicate = rule.await.state;
    const state = predicate === undefined ? undefined : read(predicate.field);
    const satisfies = predicate === undefined || (state !== undefined && predicate.in.includes(state));
    const status = state === undefined ? 200 : (predicate?.status[state] ?? 200);
    const meta: ReplyEnvelopeMeta = {
      id: '',
      status: String(status),
      contentType: 'application/json',
      receivedAt: at.now,
      topic: at.topic,
      partition: at.partition,
      offset: message.offset,
    };
    matches.push({ rule, entity: entityOf(values), satisfies, meta, body: raw, timestamp });
  }
  return { ok: true, matches };
}

/** Read `key`, `header.<name>`, `value` or `value.a.b` of an event as a string (scalars only). */
export function readEventField(
  path: string,
  key: Buffer | string | null | undefined,
  headers: RawHeaders | undefined,
  value: unknown,
): string | undefined {
  if (path === 'key') return key === null || key === undefined ? undefined : key.toString();
  if (path.startsWith('header.')) return headerString(headers, path.slice('header.'.length));
  let current = value;
  for (const part of path.split('.').slice(1)) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return undefined;
}
