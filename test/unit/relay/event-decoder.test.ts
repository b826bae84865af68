import { expect } from 'chai';
import type { KafkaMessage } from 'kafkajs';
import { parseRoutes } from '../../../src/config/routes-file';
import { entityOf, eventIsFresh } from '../../../src/protocol/event-await';
import { decodeEvent } from '../../../src/relay/event-decoder';
import { eventRules } from '../../../src/relay/event-relay-host';

const routes = parseRoutes(
  `
routes:
  - name: getOrder
    method: GET
    path: /orders/:id
    await:
      topic: orders.events
      match: { value.payload.after.id: params.id, header.tenant: header.x-tenant }
      state: { field: value.payload.after.status, in: [VALIDATED, REJECTED], status: { REJECTED: 422 } }
`,
  { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] },
);
const rules = eventRules(routes);
const NOW = 1_700_000_000_000;
const at = { topic: 'orders.events', partition: 0, maxBytes: 1024, now: NOW };

function message(value: unknown, headers: Record<string, string> = { tenant: 't1' }, timestamp = NOW): KafkaMessage {
  return {
    key: Buffer.from('k'),
    value: typeof value === 'string' ? Buffer.from(value) : Buffer.from(JSON.stringify(value)),
    timestamp: String(timestamp),
    attributes: 0,
    offset: '7',
    headers,
  } as KafkaMessage;
}

const debezium = (id: unknown, status: string) => ({ payload: { after: { id, status } } });

describe('event decoder (event-driven routes)', () => {
  it('matches a Debezium envelope by dotted path and header, with the state status map', () => {
    const decoded = decodeEvent(message(debezium('o-1', 'REJECTED')), rules, at);
    expect(decoded.ok).to.equal(true);
    if (!decoded.ok) return;
    const [m] = decoded.matches;
    expect(m?.entity).to.equal(entityOf(['o-1', 't1']));
    expect(m?.satisfies).to.equal(true);
    expect(m?.meta.status).to.equal('422');
    expect(m?.timestamp).to.equal(NOW);
  });

  it('gives a number the same entity as its text in the request', () => {
    const decoded = decodeEvent(message(debezium(42, 'VALIDATED')), rules, at);
    expect(decoded.ok && decoded.matches[0]?.entity).to.equal(entityOf(['42', 't1']));
  });

  it('marks a state outside the predicate as not satisfying (kept, answers nobody)', () => {
    const decoded = decodeEvent(message(debezium('o-1', 'CREATED')), rules, at);
    expect(decoded.ok && decoded.matches[0]?.satisfies).to.equal(false);
  });

  it('matches nothing when a match field is missing (no wildcard)', () => {
    expect(decodeEvent(message(debezium('o-1', 'VALIDATED'), {}), rules, at)).to.deep.equal({ ok: true, matches: [] });
    expect(decodeEvent(message({ payload: {} }), rules, at)).to.deep.equal({ ok: true, matches: [] });
    // Objects are not values: a path ending on an object matches nothing.
    expect(
      decodeEvent(message({ payload: { after: { id: { $ne: 1 }, status: 'VALIDATED' } } }), rules, at),
    ).to.deep.equal({
      ok: true,
      matches: [],
    });
  });

  it('skips a huge, a non-JSON and an empty value with a reason', () => {
    expect(decodeEvent(message({ pad: 'x'.repeat(2000) }), rules, at)).to.deep.equal({
      ok: false,
      reason: 'too-large',
    });
    expect(decodeEvent(message('not json {'), rules, at)).to.deep.equal({ ok: false, reason: 'not-json' });
    expect(decodeEvent({ ...message(''), value: null }, rules, at)).to.deep.equal({ ok: false, reason: 'tombstone' });
  });

  it('skips events older than the rule horizon without matching them', () => {
    const old = message(debezium('o-1', 'VALIDATED'), undefined, NOW - 3_600_001);
    expect(decodeEvent(old, rules, at)).to.deep.equal({ ok: true, matches: [] });
  });

  it('stale rule: an event one millisecond older than the registration never answers; the same millisecond does', () => {
    expect(eventIsFresh(NOW - 1, NOW)).to.equal(false);
    expect(eventIsFresh(NOW, NOW)).to.equal(true);
    expect(eventIsFresh(NOW + 1, NOW)).to.equal(true);
    // A blocking read registers since 0: any kept state counts.
    expect(eventIsFresh(0, 0)).to.equal(true);
  });
});
