import type { RouteDefinition } from '../../config/routes-file';

/** How a request is answered once admitted. */
export type AnswerMode = 'gather' | 'stream' | 'async' | 'sync';

/** What the pipeline can do for this transport (a registry it was given). */
export interface AnswerCapabilities {
  gather: boolean;
  stream: boolean;
  async: boolean;
}

/**
 * The one place a request's answer mode is chosen: a gather route answers gathered, a stream route
 * streamed, a request with `Prefer: respond-async` 202 then fetched later, anything else waits for
 * its reply (sync; a sync timeout may still become a 202, see the route's `timeoutResponse`).
 * A mode the transport cannot serve falls through to the next, as each always has.
 */
export function chooseAnswerMode(route: RouteDefinition, can: AnswerCapabilities, respondAsync: boolean): AnswerMode {
  if (route.gather !== undefined && can.gather) return 'gather';
  if (route.stream && can.stream) return 'stream';
  if (can.async && respondAsync) return 'async';
  return 'sync';
}
