import { ERROR_CODES, type ErrorCode } from './error-codes';

/** Options shared by every {@link ReplygateError}. */
export interface ReplygateErrorOptions {
  /** The lower-level error that caused this one. */
  cause?: unknown;
  /** Whether the same request may succeed if retried later. @defaultValue false */
  retriable?: boolean;
  /** Correlation id of the request this error belongs to, when there is one. */
  correlationId?: string;
  /** Extra, JSON-safe context for the client (never secrets). */
  details?: Record<string, unknown>;
}

/**
 * Base of replygate's single error hierarchy. Each error carries a stable {@link ErrorCode},
 * the HTTP status it is answered with, whether it is retriable, and its cause.
 *
 * @example
 * throw new ReplygateError('RG_BAD_REQUEST', 'partition key body.orderId is missing');
 */
export class ReplygateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly correlationId: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ReplygateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = ERROR_CODES[code];
    this.retriable = options.retriable ?? false;
    this.correlationId = options.correlationId;
    this.details = options.details;
  }
}

/** Narrow an unknown value to a {@link ReplygateError}. */
export function isReplygateError(err: unknown): err is ReplygateError {
  return err instanceof ReplygateError;
}
