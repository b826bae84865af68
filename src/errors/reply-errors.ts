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

/** No reply record for this id: unknown, evicted (REPLYGATE_REPLY_TTL_MS), or not the caller's (404). */
export class ReplyNotFoundError extends ReplygateError {
  constructor(correlationId: string) {
    super('RG_REPLY_NOT_FOUND', "No reply with this id for this caller (unknown, expired, or another caller's)", {
      correlationId,
    });
  }
}
