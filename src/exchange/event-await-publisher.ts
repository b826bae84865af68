import { EventWaitersFullError } from '../errors/event-errors';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import { PublisherWrapper } from '../protocol/publisher-wrapper';
import type { CommandReplyInterest } from './command-reply-interest';
import type { EventInterestStore } from './event-interest-store';

/**
 * The publisher of a replica with event routes: for a request that awaits an event it registers the
 * waiter first (so the event its command causes cannot slip past, the race seed 003 lost), then
 * publishes the command, or nothing for a blocking read. Every answer mode (sync, async, long-poll,
 * SSE, WebSocket) publishes through here, so each gets the same order for free; the event itself
 * arrives as a reply stored under the request's correlation id. A route that matches on the id the
 * command created (`reply.…`) is handed to {@link CommandReplyInterest}, which registers once the
 * command's reply named the entity.
 *
 * @example
 * const broker = new RequestBroker(new EventAwaitPublisher(publisher, interests), registry, metrics, log);
 */
export class EventAwaitPublisher extends PublisherWrapper {
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
      await this.fromReply.publish(this.inner, request, request.awaits);
      return;
    }
    if (request.awaits !== undefined) {
      const outcome = await this.interests.register(request.correlationId, request.awaits);
      if (outcome.kind === 'full') {
        throw new EventWaitersFullError(request.route, outcome.limit);
      }
    }
    if (request.publish === false) return;
    await this.inner.publish(request);
  }
}
