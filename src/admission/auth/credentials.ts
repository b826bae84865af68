import type { IncomingHttpHeaders } from 'node:http';
import { UnauthenticatedError } from '../../errors/auth-errors';
import { HTTP_HEADERS } from '../../protocol/http-headers';

/** What a request presented to authenticate with. */
export type PresentedCredential =
  /** `Authorization: Bearer <token>`: a JWT or an API key, depending on the route. */
  | { kind: 'bearer'; value: string }
  /** `X-API-Key: <key>`. */
  | { kind: 'apiKey'; value: string };

/**
 * Read the one credential a request carries. Returns `undefined` when there is none; throws
 * {@link UnauthenticatedError} `malformed` for a non-Bearer `Authorization`, a repeated header, or
 * both `Authorization` and `X-API-Key` (which one counts would otherwise be a guess).
 */
export function readCredential(headers: IncomingHttpHeaders): PresentedCredential | undefined {
  const authorization = headers.authorization;
  const apiKey = headers[HTTP_HEADERS.apiKey];
  if (Array.isArray(apiKey)) throw new UnauthenticatedError('malformed', 'X-API-Key must appear once');
  if (authorization !== undefined && apiKey !== undefined) {
    throw new UnauthenticatedError('malformed', 'Send either Authorization or X-API-Key, not both');
  }
  if (apiKey !== undefined) return { kind: 'apiKey', value: apiKey.trim() };
  if (authorization === undefined) return undefined;
  const m = /^Bearer +([^\s,]+) *$/i.exec(authorization);
  if (m === null) throw new UnauthenticatedError('malformed', 'Authorization must be "Bearer <token>"');
  return { kind: 'bearer', value: m[1] as string };
}
