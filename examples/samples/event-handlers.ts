/**
 * The event samples' domain logic, without Kafka (issue 15): services that know nothing of
 * replygate — they read a command and emit domain events, with no correlation header.
 */

/** One event to emit: its topic, Kafka key and JSON value. */
export interface DomainEvent {
  topic: string;
  key: string;
  value: Record<string, unknown>;
}

/** Topics of the event samples (`event-routes.yaml` points at them). */
export const EVENT_SAMPLE_TOPICS = {
  userCommands: 'users.commands',
  usersCreated: 'users.created',
  orderCommands: 'orders.commands',
  orderEvents: 'orders.events',
} as const;

/**
 * Seed 003's users service: a `create user` command becomes a Debezium-style change event on
 * `users.created` (`payload.after` holds the row), keyed by email.
 *
 * @example
 * userCreated({ email: 'ada@example.com', name: 'Ada' }, () => 'u-1');
 */
export function userCreated(command: unknown, newId: () => string): DomainEvent[] {
  const c = command as { email?: unknown; name?: unknown } | null;
  if (typeof c?.email !== 'string') return [];
  const after = { id: newId(), email: c.email, name: typeof c.name === 'string' ? c.name : '' };
  return [{ topic: EVENT_SAMPLE_TOPICS.usersCreated, key: c.email, value: { payload: { op: 'c', after } } }];
}

/**
 * The orders service: `CREATED`, then `VALIDATED` when every item has a positive quantity, else
 * `REJECTED` with a reason; keyed by the order id the client chose.
 *
 * @example
 * orderEvents({ orderId: 'o-1', items: [{ sku: 'tea', qty: 1 }] }); // CREATED, VALIDATED
 */
export function orderEvents(command: unknown): DomainEvent[] {
  const c = command as { orderId?: unknown; items?: unknown } | null;
  if (typeof c?.orderId !== 'string') return [];
  const items = Array.isArray(c.items) ? (c.items as { qty?: unknown }[]) : [];
  const ok = items.length > 0 && items.every((i) => typeof i?.qty === 'number' && i.qty > 0);
  const event = (status: string, extra: Record<string, unknown> = {}): DomainEvent => ({
    topic: EVENT_SAMPLE_TOPICS.orderEvents,
    key: c.orderId as string,
    value: { orderId: c.orderId, status, items, ...extra },
  });
  return [event('CREATED'), ok ? event('VALIDATED') : event('REJECTED', { reason: 'every item needs a quantity' })];
}
