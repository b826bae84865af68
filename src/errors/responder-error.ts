/** Options of a {@link ResponderError} beyond its status, message and details. */
export interface ResponderErrorOptions {
  /**
   * Stable, grep-able code sent as `error` in the reply body, e.g. `ORDER_NOT_FOUND`.
   * @defaultValue `SERVICE_ERROR`
   */
  code?: string;
  /** The lower-level error that caused this one (logged, never sent). */
  cause?: unknown;
}

/**
 * An error a request handler throws on purpose to answer with an HTTP error status. The responder
 * turns it into a reply with that status and the JSON body
 * `{ "error": code, "message": message, "details"?: details }`.
 *
 * It is not a `ReplygateError`: those carry the gateway's own fixed codes, while a service names
 * its own codes and statuses. A status outside 400–599 is answered as 500.
 *
 * @example
 * throw new ResponderError(404, `order ${id} not found`, { orderId: id }, { code: 'ORDER_NOT_FOUND' });
 */
export class ResponderError extends Error {
  /** HTTP status of the reply. */
  readonly status: number;
  /** Code sent as `error` in the reply body. */
  readonly code: string;
  /** JSON-safe context sent to the client as `details` (never secrets). */
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, message: string, details?: Record<string, unknown>, options: ResponderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = options.code ?? 'SERVICE_ERROR';
    this.details = details;
  }
}

/** Narrow an unknown value to a {@link ResponderError}. */
export function isResponderError(err: unknown): err is ResponderError {
  return err instanceof ResponderError;
}
