import { EventWaitersFullError } from '../errors/event-errors';
import type { Logger } from '../observability/logger';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import { PublisherWrapper } from '../protocol/publisher-wrapper';
import type { CommandReplyInterest } from './command-reply-interest';
import { EventInterestLedger } from './event-interest-ledger';
import type { EventInterestStore } from './event-interest-store';

/** What one {@link EventAwaitPublisher.restore} did. */
export interface RestoreResult {
  /** Registered again (waiting for the event). */
  registered: number;
  /** Answered at once by a kept state found on re-registration. */
  answered: number;
  /** Not registered: the entity was full, or Redis refused (logged). */
  failed: number;
}

/**
 * The publisher of a replica with event routes: for a request that awaits an event it registers the
 * waiter first (so the event its command causes cannot slip past, the race seed 003 lost), then
 * publishes the command, or nothing for a blocking read. Every answer mode (sync, async, long-poll,
 * SSE, WebSocket) publishes through here, so each gets the same order for free; the event itself
 * arrives as a reply stored under the request's correlation id. A route that matches on the id the
 * command created (`reply.…`) is handed to {@link CommandReplyInterest}, which registers once the
 * command's reply named the entity.
 *
 * It remembers what it registered ({@link EventInterestLedger}): after Redis lost its data (a
 * restart without persistence), {@link restore} registers the waiters that still wait again.
 *
 * @example
 * const broker = new RequestBroker(new EventAwaitPublisher(publisher, interests), registry, metrics, log);
 */
export class EventAwaitPublisher extends PublisherWrapper {
  private readonly ledger = new EventInterestLedger();
  private restoring: Promise<RestoreResult> | undefined;
  private restoreAgain = false;

  constructor(
    inner: RequestPublisher,
    private readonly interests: EventInterestStore,
    /** Routes whose match values come from the command's reply (`reply.…`); none without it. */
    private readonly fromReply?: CommandReplyInterest,
  ) {
    super(inner);
  }

  override async publish(request: OutgoingRequest): Promise<void> {
    if (request.awaits?.pending !== undefined && this.fromReply !== undefined) {
      // The entity is known only from the command's reply: registered once that is in.
      await this.fromReply.publish(this.inner, request, request.awaits, (id, interest) =>
        this.ledger.remember(id, interest),
      );
      return;
    }
    if (request.awaits !== undefined) {
      const outcome = await this.interests.register(request.correlationId, request.awaits);
      if (outcome.kind === 'full') {
        throw new EventWaitersFullError(request.route, outcome.limit);
      }
      if (outcome.kind === 'registered') this.ledger.remember(request.correlationId, request.awaits);
    }
    if (request.publish === false) return;
    await this.inner.publish(request);
  }

  /**
   * Register again every waiter of this replica whose request still waits (`stillWaiting`), with
   * its original registration (`since` unchanged, so an event older than its command still never
   * answers it; a blocking read looks at the kept state again). Registering twice is harmless (the
   * same sorted-set member), so a restore asked for while one runs just runs once more after it.
   */
  async restore(stillWaiting: (correlationId: string) => boolean, log: Logger): Promise<RestoreResult> {
    if (this.restoring !== undefined) {
      this.restoreAgain = true;
      return this.restoring;
    }
    this.restoring = (async () => {
      let result: RestoreResult;
      do {
        this.restoreAgain = false;
        result = await this.restoreOnce(stillWaiting, log);
      } while (this.restoreAgain);
      return result;
    })();
    try {
      return await this.restoring;
    } finally {
      this.restoring = undefined;
    }
  }

  private async restoreOnce(stillWaiting: (correlationId: string) => boolean, log: Logger): Promise<RestoreResult> {
    const result: RestoreResult = { registered: 0, answered: 0, failed: 0 };
    const live = this.ledger.live(Date.now()).filter(([id]) => {
      if (stillWaiting(id)) return true;
      this.ledger.forget(id);
      return false;
    });
    if (live.length === 0) return result;
    await Promise.all(
      live.map(async ([id, interest]) => {
        try {
          const outcome = await this.interests.register(id, interest);
          if (outcome.kind === 'registered') result.registered++;
          else if (outcome.kind === 'answered') result.answered++;
          else result.failed++;
        } catch (err) {
          result.failed++;
          log.debug({ err, correlationId: id }, 'could not register an event waiter again');
        }
      }),
    );
    log.warn({ ...result }, 'Redis lost its data: event waiters registered again');
    return result;
  }
}
