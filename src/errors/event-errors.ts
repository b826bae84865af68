import { ReplygateError } from './replygate-error';

/**
 * Too many requests already wait for the same entity of an event route, across replicas (429
 * `RG_RATE_LIMITED`): the route's `await.maxWaiters` bounds what one caller can pile on one key.
 */
export class EventWaitersFullError extends ReplygateError {
  constructor(
    readonly route: string,
    readonly limit: number,
  ) {
    super(
      'RG_RATE_LIMITED',
      `Too many requests wait for this entity on route ${route} (await.maxWaiters=${limit}); retry later`,
      { retriable: true, details: { limit, setting: 'await.maxWaiters' } },
    );
  }
}
