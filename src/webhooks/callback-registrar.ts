import { HTTP_HEADERS } from '../protocol/http-headers';
import type { CallbackHook, CallbackHookStore } from './callback-hook-store';
import { CallbackRefusedError } from '../errors/callback-errors';
import type { CallbackSettings } from '../config/route-callbacks';
import { checkCallbackUrl } from '../config/callback-url';

/** Request header naming where the reply should be POSTed. */
export const CALLBACK_URL_HEADER = HTTP_HEADERS.callbackUrl;
/** Response header telling the callback's delivery state. */
export const CALLBACK_STATE_HEADER = HTTP_HEADERS.callbackState;

/** What the registrar needs of a route. */
export interface CallbackRoute {
  name: string;
  replyContentType: string;
  callbacks?: CallbackSettings | undefined;
}

/**
 * The request side of webhooks: decides whether a request gets a callback, checks its URL against
 * the route's allow-list (400 otherwise, before anything is published), and records the hook.
 *
 * @example
 * const hook = registrar.resolve(route, req.headers['callback-url'], prefer.respondAsync);
 * if (hook !== undefined) await registrar.register(correlationId, hook);
 */
export class CallbackRegistrar {
  constructor(private readonly hooks: CallbackHookStore) {}

  /**
   * The hook for this request, or `undefined` when it asks for none. Throws
   * {@link CallbackRefusedError} for a `Callback-Url` that is not allowed, on a route without
   * callbacks, or on a request that is not `Prefer: respond-async`.
   */
  resolve(
    route: CallbackRoute,
    header: string | string[] | undefined,
    respondAsync: boolean,
  ): CallbackHook | undefined {
    const asked = Array.isArray(header) ? header[0] : header;
    const settings = route.callbacks;
    if (asked !== undefined) {
      if (settings === undefined) throw new CallbackRefusedError('no-callbacks');
      if (!respondAsync) throw new CallbackRefusedError('not-async');
    }
    if (settings === undefined || !respondAsync) return undefined;
    let url = settings.url;
    if (asked !== undefined) {
      const check = checkCallbackUrl(asked.trim(), settings.allow);
      if (!check.ok) throw new CallbackRefusedError(check.problem);
      url = check.url;
    }
    if (url === undefined) return undefined;
    return {
      url,
      route: route.name,
      replyContentType: route.replyContentType,
      attempts: settings.attempts,
      backoffMs: settings.backoffMs,
    };
  }

  /** Record the hook; call before publishing, so the relay finds it however fast the reply is. */
  register(correlationId: string, hook: CallbackHook): Promise<void> {
    return this.hooks.register(correlationId, hook);
  }

  /** The delivery state of a request's callback, if it has one. */
  async state(correlationId: string): Promise<string | undefined> {
    return (await this.hooks.read(correlationId))?.state;
  }
}
