import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** No route matches the request's path (404). */
export class RouteNotFoundError extends ReplygateError {
  constructor(
    readonly method: string,
    readonly path: string,
  ) {
    super('RG_ROUTE_NOT_FOUND', `No route for ${method} ${path}`, { details: { method, path } });
  }
}

/** A route matches the path but not the method (405). */
export class MethodNotAllowedError extends ReplygateError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly allowed: readonly string[],
  ) {
    super('RG_METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`, {
      details: { method, path, allowed },
    });
  }
}

/** The request body is not valid JSON although its content type says it is (400). */
export class InvalidJsonError extends ReplygateError {
  constructor(reason: string, options: ReplygateErrorOptions = {}) {
    super('RG_INVALID_JSON', `Request body is not valid JSON: ${reason}`, options);
  }
}

/** A well-formed request that the route cannot accept, e.g. a missing partition key (400). */
export class BadRequestError extends ReplygateError {
  constructor(message: string, options: ReplygateErrorOptions = {}) {
    super('RG_BAD_REQUEST', message, options);
  }
}

/** The request body exceeds the route's `maxBodyBytes` (413). */
export class BodyTooLargeError extends ReplygateError {
  constructor(
    readonly limitBytes: number,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_BODY_TOO_LARGE',
      `Request body exceeds ${limitBytes} bytes (route maxBodyBytes / REPLYGATE_MAX_BODY_BYTES)`,
      { ...options, details: { limitBytes } },
    );
  }
}

/** The request's content type is not one the route accepts (415). */
export class UnsupportedMediaTypeError extends ReplygateError {
  constructor(
    readonly contentType: string | undefined,
    readonly accepted: readonly string[],
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${contentType ?? '(none)'} is not accepted; send one of: ${accepted.join(', ')}`,
      { ...options, details: { contentType: contentType ?? null, accepted } },
    );
  }
}

/**
 * An `Idempotency-Key` was reused by the same caller with a different request (422). It names no
 * correlation id: the first request's id is never shown to a request that differs from it.
 */
export class IdempotencyKeyReusedError extends ReplygateError {
  constructor() {
    super(
      'RG_IDEMPOTENCY_KEY_REUSED',
      'This Idempotency-Key was already used with a different request (method, path, query or body)',
    );
  }
}
