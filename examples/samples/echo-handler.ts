import { setTimeout as sleep } from 'node:timers/promises';
import { type QueryValue, type RequestContext, type RequestHandler, type ResponderReply } from 'replygate/responder';
import { ResponderError } from 'replygate/responder';

/** Longest `delayMs` the echo sample accepts. */
export const ECHO_MAX_DELAY_MS = 60_000;

/** What the echo sample answers with. */
export interface EchoBody {
  route: string | null;
  method: string | null;
  path: string | null;
  params: Readonly<Record<string, string>>;
  query: Readonly<Record<string, QueryValue>>;
  headers: Readonly<Record<string, string>>;
  /** The body parsed as JSON; its text when it is not JSON; null when empty. */
  body: unknown;
}

/**
 * The echo sample's handler, for tests and benchmarks: answers any route with 200 and an
 * {@link EchoBody} describing the request. Query `delayMs` (0–60000) delays the reply, so tests
 * can produce late replies; query `status` (200–599) sets the reply status, so they can produce
 * error replies. A bad value of either answers 400 (code `BAD_ECHO_PARAMETER`).
 *
 * Synchronous unless a delay is asked for, and it builds one object per request.
 */
export function createEchoHandler(): RequestHandler {
  return (ctx: RequestContext): ResponderReply | Promise<ResponderReply> => {
    const status = intParam(ctx.query['status'], 'status', 200, 599) ?? 200;
    const delayMs = intParam(ctx.query['delayMs'], 'delayMs', 0, ECHO_MAX_DELAY_MS) ?? 0;
    const body: EchoBody = {
      route: ctx.route ?? null,
      method: ctx.method ?? null,
      path: ctx.path ?? null,
      params: ctx.params,
      query: ctx.query,
      headers: ctx.headers,
      body: echoBody(ctx),
    };
    const reply: ResponderReply = { status, body };
    return delayMs > 0 ? sleep(delayMs).then(() => reply) : reply;
  };
}

function intParam(value: QueryValue | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  const n = text !== undefined && /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new ResponderError(
      400,
      `Query ${name} must be an integer from ${min} to ${max}`,
      { [name]: value },
      { code: 'BAD_ECHO_PARAMETER' },
    );
  }
  return n;
}

function echoBody(ctx: RequestContext): unknown {
  if (ctx.body.length === 0) return null;
  const text = ctx.body.toString('utf8');
  const type = ctx.contentType;
  if (type === undefined || /json/i.test(type)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
