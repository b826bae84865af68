import { parse as parseContentType } from 'content-type';
import { UnsupportedMediaTypeError } from '../errors/http-errors';

/** The request's media type, lower-case and without parameters, or `undefined` when absent. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  try {
    return parseContentType(header).type;
  } catch {
    return undefined;
  }
}

/** Whether a media type is JSON (`application/json` or any `+json` suffix type). */
export function isJsonMediaType(type: string | undefined): boolean {
  return type !== undefined && (type === 'application/json' || type.endsWith('+json'));
}

/**
 * Check a request with a body against the route's accepted types (`type/subtype`, `type/*`).
 * Throws {@link UnsupportedMediaTypeError} (415) otherwise.
 */
export function assertAccepted(header: string | undefined, accepts: readonly string[]): string {
  const type = mediaTypeOf(header);
  if (type !== undefined) {
    for (const accepted of accepts) {
      if (accepted === type || accepted === '*/*') return type;
      if (accepted.endsWith('/*') && type.startsWith(accepted.slice(0, -1))) return type;
    }
  }
  throw new UnsupportedMediaTypeError(header, accepts);
}
