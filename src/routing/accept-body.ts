import type { RouteDefinition } from '../config/routes-file';
import { InvalidJsonError } from '../errors/http-errors';
import { assertAccepted, isJsonMediaType } from './content-negotiation';

/** A request body as read, checked against the route's accepted types, and parsed when JSON. */
export interface RequestBody {
  bytes: Buffer;
  contentType: string | undefined;
  /** The parsed JSON body, when the body is JSON (a partition-key expression may read it). */
  parsed?: unknown;
}

/**
 * Check a non-empty body's content type against the route's `accepts` (415) and parse a JSON body
 * (400 `RG_INVALID_JSON`). An empty body is taken as is.
 *
 * @example
 * const body = acceptBody(route, await readBody(req, route.maxBodyBytes), req.headers['content-type']);
 */
export function acceptBody(route: RouteDefinition, bytes: Buffer, contentType: string | undefined): RequestBody {
  let parsed: unknown;
  if (bytes.length > 0) {
    const type = assertAccepted(contentType, route.accepts);
    if (isJsonMediaType(type)) parsed = parseJson(bytes);
  }
  return { bytes, contentType, parsed };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidJsonError((err as Error).message, { cause: err });
  }
}
