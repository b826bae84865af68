import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** Why a callback URL was refused. */
export type CallbackUrlProblem = 'not-a-url' | 'scheme' | 'credentials' | 'not-allowed';

const REASONS: Record<CallbackUrlProblem | 'no-callbacks' | 'not-async', string> = {
  'not-a-url': 'is not an absolute URL',
  scheme: 'must be http or https',
  credentials: 'must not carry credentials',
  'not-allowed': "does not start with one of the route's allowed prefixes (callbacks.allow)",
  'no-callbacks': 'is not accepted: the route configures no callbacks',
  'not-async': 'needs Prefer: respond-async',
};

/** A `Callback-Url` the route does not allow (400). The URL is not echoed back. */
export class CallbackRefusedError extends ReplygateError {
  constructor(
    readonly reason: CallbackUrlProblem | 'no-callbacks' | 'not-async',
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_CALLBACK_REFUSED', `Callback-Url ${REASONS[reason]}`, { ...options, details: { reason } });
  }
}

/** A callback the receiver did not accept; retried until the job's attempts run out. */
export class CallbackDeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CallbackDeliveryError';
  }
}
