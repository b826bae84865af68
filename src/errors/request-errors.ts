import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** Which part of a request the client was too slow to send. */
export type RequestTimeoutPhase = 'headers' | 'body';

/**
 * The client did not send its headers within REPLYGATE_HEADERS_TIMEOUT_MS, or its whole request
 * within REPLYGATE_REQUEST_TIMEOUT_MS (408). Not the wait for the reply: that is a 504.
 */
export class RequestTimeoutError extends ReplygateError {
  constructor(
    readonly phase: RequestTimeoutPhase,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_REQUEST_TIMEOUT',
      phase === 'headers'
        ? 'The request headers did not arrive in time (REPLYGATE_HEADERS_TIMEOUT_MS)'
        : 'The request did not arrive in time (REPLYGATE_REQUEST_TIMEOUT_MS)',
      { ...options, details: { phase } },
    );
  }
}

/** The request body has a `Content-Encoding` the gateway cannot decode (415). */
export class UnsupportedContentEncodingError extends ReplygateError {
  constructor(
    readonly encoding: string,
    readonly supported: readonly string[],
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_UNSUPPORTED_CONTENT_ENCODING',
      `Content-Encoding ${encoding.slice(0, 64)} is not supported; send the body as is or with one of: ${supported.join(', ')}`,
      { ...options, details: { contentEncoding: encoding.slice(0, 64), supported } },
    );
  }
}
