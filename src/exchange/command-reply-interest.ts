import type { Logger } from '../observability/logger';
import { newCorrelationId, parseCorrelationId } from '../protocol/correlation-id';
import type { EventInterest, ReplyInterestResolver } from '../protocol/event-await';
import type { OutgoingRequest, RequestPublisher } from '../protocol/outgoing-request';
import { decodeEnvelope, encodeEnvelope, type DecodedReply, type ReplyEnvelope } from '../protocol/reply-envelope';
import type { EventInterestStore } from './event-interest-store';
import type { PendingOutcome, PendingRegistry } from './pending-registry';
import type { ReplyStore } from './reply-store';
import type { StoredReplyDecoder } from './stored-reply-decoder';

/** What a {@link CommandReplyInterest} needs from the replica. */
export interface CommandReplyInterestParts {
  /** Parks the command's own correlation id, so its reply wakes this replica as any reply does. */
  registry: PendingRegistry;
  interests: EventInterestStore;
  /** Where an answer the gateway makes itself (an error, a service's refusal) is stored for the request. */
  replies: ReplyStore;
  /** Decodes the command's reply as every stored reply is (header caps, malformed replies counted). */
  decoder: StoredReplyDecoder;
  /** Reads the `reply.…` values and hashes the entity (`resolveReplyInterest` in routing/). */
  resolve: ReplyInterestResolver;
  log: Logger;
}

/**
 * A command route whose match values include the id of what the command created (`reply.body.…`,
 * `reply.header.…`): the command is published under a correlation id of its own (a second
 * `<instanceId>.<random>`, so the service's reply wakes this replica by the usual keyspace
 * notification), and once that reply is in, the entity is known and the waiter is registered under
 * the request's correlation id, reading the kept latest state in the same script (the event may
 * have come first; only one at or after `since`, taken before the command was published, counts).
 * Whatever ends the request is stored under the request's id, so every answer mode (sync, async,
 * long-poll, SSE, WebSocket) serves it unchanged:
 * - the service answered a status outside 2xx: its reply, as it is (it refused the command);
 * - the reply lacks a `reply.…` value: 502 `RG_REPLY_MALFORMED` naming the missing field;
 * - the entity already has `maxWaiters` waiters: 429 `RG_RATE_LIMITED`.
 * If the replica stops before the command's reply, the request ends at its deadline.
 */
export class CommandReplyInterest {
  constructor(private readonly parts: CommandReplyInterestParts) {}

  /**
   * Park the command's id, publish the command under it (rejects as the inner publisher does),
   * then finish in the background once its reply is in; `registered` hears of the waiter once it
   * is registered (the publisher remembers it, to register it again after a Redis restart).
   */
  async publish(
    inner: RequestPublisher,
    request: OutgoingRequest,
    interest: EventInterest,
    registered?: (correlationId: string, interest: EventInterest) => void,
  ): Promise<void> {
    const { registry, log } = this.parts;
    const instanceId = parseCorrelationId(request.correlationId)?.instanceId ?? 'rg';
    const commandId = newCorrelationId(instanceId);
    const reply = registry.park(commandId, Math.max(1, interest.expiresAt - Date.now()), request.route);
    try {
      await inner.publish({ ...request, correlationId: commandId });
    } catch (err) {
      registry.cancel(commandId, 'publish-failed');
      throw err;
    }
    void reply
      .then((outcome) => this.onCommandReply(request, interest, outcome, registered))
      .catch((err: unknown) => {
        log.warn({ err, correlationId: request.correlationId, commandId }, 'could not register the event waiter');
      });
  }

  private async onCommandReply(
    request: OutgoingRequest,
    interest: EventInterest,
    outcome: PendingOutcome,
    onRegistered?: (correlationId: string, interest: EventInterest) => void,
  ) {
    // A timeout or a cancel: the request ends as any request without a reply does.
    if (outcome.kind !== 'reply') return;
    const id = request.correlationId;
    let envelope: ReplyEnvelope;
    let reply: DecodedReply;
    try {
      envelope = decodeEnvelope(outcome.raw);
      reply = this.parts.decoder.decode(envelope, { name: request.route, replyContentType: 'application/json' });
    } catch (err) {
      const detail = `The service's reply to the command is malformed: ${(err as Error).message}`;
      await this.store(id, problem(502, 'RG_REPLY_MALFORMED', detail, id, {}));
      return;
    }
    if (reply.status < 200 || reply.status > 299) {
      await this.store(id, { ...envelope, meta: { ...envelope.meta, id } });
      return;
    }
    const resolved = this.parts.resolve(interest, { headers: lowerCased(reply.headers), body: jsonOf(reply.body) });
    if ('missing' in resolved) {
      const detail = `The service's reply to the command has no ${resolved.missing} (a string or number), needed to match the event`;
      await this.store(id, problem(502, 'RG_REPLY_MALFORMED', detail, id, { replyField: resolved.missing }));
      return;
    }
    const registered = await this.parts.interests.register(id, resolved);
    if (registered.kind === 'registered') onRegistered?.(id, resolved);
    if (registered.kind === 'full') {
      const detail = `Too many requests wait for this entity on route ${request.route} (await.maxWaiters=${registered.limit}); retry later`;
      await this.store(
        id,
        problem(429, 'RG_RATE_LIMITED', detail, id, { limit: registered.limit, setting: 'await.maxWaiters' }),
      );
    }
  }

  /** Store the request's answer (first writer wins, as for any reply). */
  private async store(id: string, answer: ReplyEnvelope): Promise<void> {
    await this.parts.replies.writeReplies([{ correlationId: id, value: encodeEnvelope(answer) }]);
  }
}

/** The gateway's problem body (the same fields as `problemBody`), as a stored reply. */
function problem(
  status: number,
  code: string,
  detail: string,
  correlationId: string,
  details: Record<string, unknown>,
): ReplyEnvelope {
  const body = {
    type: `urn:replygate:error:${code}`,
    title: code,
    status,
    detail,
    error: code,
    correlationId,
    ...(Object.keys(details).length > 0 ? { details } : {}),
  };
  return {
    meta: {
      id: correlationId,
      status: String(status),
      contentType: 'application/problem+json',
      receivedAt: Date.now(),
      topic: '',
      partition: -1,
      offset: '-1',
    },
    body: Buffer.from(JSON.stringify(body)),
  };
}

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}
