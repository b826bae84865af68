import { Counter, type Registry } from 'prom-client';

/** The event relay's metrics (event-driven routes, issue 15), on the replica's registry. */
export class EventMetrics {
  /** Events read from awaited topics, by what became of them. */
  readonly events: Counter<'result'>;
  /** Events skipped as unusable, by reason (`too-large`, `not-json`, `tombstone`). */
  readonly skipped: Counter<'reason'>;
  /** Waiters answered (`stored`), already answered (`duplicate`), or passed over as older than their command (`stale`). */
  readonly answers: Counter<'result'>;
  /** Redis commands the event relay sent (state writes, waiter reads, answers): its cost per event. */
  readonly redisCommands: Counter;

  constructor(registry: Registry) {
    this.events = new Counter({
      name: 'replygate_event_messages_total',
      help: 'Messages read from awaited event topics, by result (matched a route, unmatched, skipped)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.skipped = new Counter({
      name: 'replygate_event_skipped_total',
      help: 'Events skipped as unusable (too large, not JSON, tombstone), by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    this.answers = new Counter({
      name: 'replygate_event_answers_total',
      help: 'Waiters of event routes answered by an event, by result (stored, duplicate, stale)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.redisCommands = new Counter({
      name: 'replygate_event_redis_commands_total',
      help: 'Redis commands sent by the event relay',
      registers: [registry],
    });
  }
}
