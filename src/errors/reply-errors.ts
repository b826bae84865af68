import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** No reply arrived before the route's deadline (504). */
export class ReplyTimeoutError extends ReplygateError {
  constructor(
    correlationId: string,
    readonly topic: string,
    readonly waitedMs: number,
  ) {
    super(
      'RG_REPLY_TIMEOUT',
      `No reply from topic ${topic} within ${waitedMs} ms (route timeoutMs / REPLYGATE_TIMEOUT_MS)`,
      { correlationId, retriable: true, details: { topic, waitedMs } },
    );
  }
}

/** The stored reply envelope could not be decoded into a response (502). */
export class ReplyMalformedError extends ReplygateError {
  constructor(reason: string, options: ReplygateErrorOptions = {}) {
    super('RG_REPLY_MALFORMED', `The service's reply is malformed: ${reason}`, options);
  }
}

/** Publishing the request to Kafka failed; nothing was sent (503). */
export class PublishFailedError extends ReplygateError {
  constructor(
    readonly topic: string,
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_PUBLISH_FAILED', `Could not publish the request to topic ${topic}; retry later`, {
      retriable: true,
      ...options,
      details: { topic },
    });
  }
}

/** This replica cannot take requests right now: starting, stopping or cut off from Redis/Kafka (503). */
export class UnavailableError extends ReplygateError {
  constructor(reason: string, options: ReplygateErrorOptions = {}) {
    super('RG_UNAVAILABLE', `Gateway unavailable: ${reason}`, { retriable: true, ...options });
  }
}

/** Too many parked requests on this replica (503). */
export class OverloadedError extends ReplygateError {
  constructor(
    readonly maxPending: number,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_OVERLOADED',
      `Too many requests waiting for replies on this replica (REPLYGATE_MAX_PENDING=${maxPending})`,
      { retriable: true, ...options, details: { maxPending } },
    );
  }
}

/**
 * No reply record for this id: unknown, evicted (REPLYGATE_REPLY_TTL_MS), or fetched without its
 * retrieval token (404). It never carries the id the client sent: that is raw client input (it
 * may hold control characters or be 9,000 characters long), and the response has its own
 * correlation id. A malformed id is said to be invalid, with its length only.
 */
export class ReplyNotFoundError extends ReplygateError {
  constructor(invalidIdLength?: number) {
    super(
      'RG_REPLY_NOT_FOUND',
      invalidIdLength === undefined
        ? 'No reply with this id for this retrieval token (unknown, expired, or the token is missing or wrong)'
        : 'invalid reply id',
      invalidIdLength === undefined ? {} : { details: { idLength: invalidIdLength } },
    );
  }
}

/**
 * Too many long-polls or event streams (watchers) on `GET /v1/replies/<id>`: on this replica
 * (503 `RG_OVERLOADED`, REPLYGATE_MAX_WATCHERS) or on one reply (429 `RG_RATE_LIMITED`,
 * REPLYGATE_MAX_WATCHERS_PER_REPLY). Watchers have their own bound so they never take the places
 * of parked requests (REPLYGATE_MAX_PENDING).
 */
export class WatcherLimitError extends ReplygateError {
  constructor(
    readonly scope: 'replica' | 'reply',
    readonly limit: number,
  ) {
    const setting = scope === 'replica' ? 'REPLYGATE_MAX_WATCHERS' : 'REPLYGATE_MAX_WATCHERS_PER_REPLY';
    super(
      scope === 'replica' ? 'RG_OVERLOADED' : 'RG_RATE_LIMITED',
      scope === 'replica'
        ? `Too many long-polls and event streams on this replica (${setting}=${limit}); retry later`
        : `Too many long-polls and event streams on this reply (${setting}=${limit}); retry later`,
      { retriable: true, details: { limit, setting } },
    );
  }
}

/** A queued message whose request gave up before a send slot came free. */
export class ExpiredBeforeSendError extends Error {
  constructor() {
    super('the request expired while queued behind an unacknowledged produce; not sent');
    this.name = 'ExpiredBeforeSendError';
  }
}
