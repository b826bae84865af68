import type { ResponderReply } from './request-context';
import { isResponderError } from '../errors/responder-error';

/** The JSON body of an error reply. */
export interface ErrorReplyBody {
  /** Stable code: the `ResponderError`'s code, or `SERVICE_ERROR`. */
  error: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The reply for an error a handler threw. A `ResponderError` keeps its status (400–599, else 500),
 * code, message and details. Anything else is a bug in the service: 500 with
 * `{ "error": "SERVICE_ERROR", "message": "internal error" }`, never the error's own message,
 * which may hold internals.
 *
 * @example
 * replyForError(new ResponderError(404, 'no such order'));
 * // → { status: 404, body: { error: 'SERVICE_ERROR', message: 'no such order' } }
 */
export function replyForError(err: unknown): ResponderReply {
  if (isResponderError(err)) {
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status <= 599 ? err.status : 500;
    const body: ErrorReplyBody = { error: err.code, message: err.message };
    if (err.details !== undefined) body.details = err.details;
    return { status, body };
  }
  const body: ErrorReplyBody = { error: 'SERVICE_ERROR', message: 'internal error' };
  return { status: 500, body };
}
