import { Router, type Request, type Response } from 'express';
import type { RequestBroker } from '../../exchange/request-broker';
import { ReplyNotFoundError } from '../../errors/reply-errors';
import { sendProblem } from './problem-response';
import { toReplygateError } from '../../errors/to-replygate-error';
import type { ReplyStore } from '../../exchange/reply-store';
import { newCorrelationId, parseCorrelationId } from '../../protocol/correlation-id';
import { replyBodyField } from '../../protocol/reply-body';
import type { DecodedReply } from '../../protocol/reply-envelope';
import type { ReplyRouteRef, StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { AsyncReplyRegistry, AsyncReplyRecord } from '../../exchange/async-reply-registry';
import { replyLocation } from './accepted-response';
import { parsePrefer } from './prefer-header';
import type { WatcherLimiter } from '../../exchange/watcher-limiter';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import { GATEWAY_PATHS } from '../../protocol/gateway-paths';

/** What the replies endpoints need. */
export interface RepliesRouterDeps {
  registry: AsyncReplyRegistry;
  store: ReplyStore;
  broker: RequestBroker;
  /** REPLYGATE_MAX_WAIT_MS: the longest a long-poll or event stream is held. */
  maxWaitMs: number;
  /** This replica's id: responses that name no known reply get a correlation id of their own. */
  instanceId: string;
  /** Bounds long-polls and event streams (REPLYGATE_MAX_WATCHERS*); without it they are unbounded. */
  watchers?: WatcherLimiter;
  /** The replica's reply decoder: the configured header caps and dropped-header counting. */
  replyDecoder: StoredReplyDecoder;
  /** The delivery state of a request's webhook (`Replygate-Callback-State`), if it has one. */
  callbackState?: (correlationId: string) => Promise<string | undefined>;
}

/**
 * `GET /v1/replies/:id` (stored reply, `202` while pending, `Prefer: wait=N` long-poll) and
 * `GET /v1/replies/:id/events` (Server-Sent Events: `pending`, then `reply` or `timeout`).
 * Waiting rides the same wake-up as parked requests: a keyspace notification, never a poll loop.
 * The retrieval token comes in `Replygate-Reply-Token` or `?token=`. Watchers are parked apart from
 * requests and bounded by their own limits, so they never starve REPLYGATE_MAX_PENDING. Every
 * response carries `X-Correlation-Id`: the reply's id once the token proved it, else a fresh one;
 * the id the client sent is never echoed before then.
 */
export function createRepliesRouter(deps: RepliesRouterDeps): Router {
  const router = Router();

  const lookup = async (req: Request, res: Response): Promise<{ id: string; record: AsyncReplyRecord }> => {
    // Until the token proves the id, the response is named by an id of its own, not by client input.
    res.setHeader(HTTP_HEADERS.correlationId, newCorrelationId(deps.instanceId));
    const id = String(req.params['id'] ?? '');
    if (parseCorrelationId(id) === undefined) throw new ReplyNotFoundError(id.length);
    const header = req.headers['replygate-reply-token'];
    const token =
      typeof header === 'string' ? header : typeof req.query['token'] === 'string' ? req.query['token'] : undefined;
    const record = token === undefined ? undefined : await deps.registry.lookup(id, token);
    if (record === undefined || token === undefined) throw new ReplyNotFoundError();
    res.setHeader(HTTP_HEADERS.correlationId, id);
    // The answer is for the token holder only.
    res.setHeader('cache-control', 'no-store');
    return { id, record };
  };

  /** The reply if stored now, else wait up to `waitMs` for its notification (as a watcher). */
  const awaitReply = async (id: string, record: AsyncReplyRecord, waitMs: number, res: Response) => {
    const stored = await deps.store.readReply(id);
    if (stored !== null) return deps.replyDecoder.decode(stored, routeRef(record));
    if (waitMs <= 0) return undefined;
    const outcome = await deps.broker.follow(
      id,
      waitMs,
      record.route,
      (cancel) => {
        res.on('close', () => {
          if (!res.writableEnded) cancel.cancel('client-closed');
        });
      },
      { watcher: true },
    );
    return outcome.kind === 'reply' ? deps.replyDecoder.decode(outcome.raw, routeRef(record)) : undefined;
  };

  /** A watcher's place, or the refusal (503 per replica, 429 per reply, both with Retry-After). */
  const acquireWatcher = (id: string, res: Response): (() => void) => {
    try {
      return deps.watchers?.acquire(id) ?? (() => undefined);
    } catch (err) {
      res.setHeader(HTTP_HEADERS.retryAfter, '1');
      throw err;
    }
  };

  router.get(`${GATEWAY_PATHS.replies}/:id`, async (req, res) => {
    let release: (() => void) | undefined;
    try {
      const { id, record } = await lookup(req, res);
      const wait = Math.min(parsePrefer(req.headers[HTTP_HEADERS.prefer]).waitMs ?? 0, deps.maxWaitMs);
      if (wait > 0) release = acquireWatcher(id, res);
      const reply = await awaitReply(id, record, wait, res);
      release?.();
      if (res.destroyed) return;
      const callbackState = await deps.callbackState?.(id);
      if (callbackState !== undefined) res.setHeader(HTTP_HEADERS.callbackState, callbackState);
      if (reply === undefined) {
        res.status(202).setHeader(HTTP_HEADERS.retryAfter, '1');
        res.setHeader('location', replyLocation(id));
        res.json({ correlationId: id, status: 'pending', location: replyLocation(id) });
        return;
      }
      sendStoredReply(res, reply);
    } catch (err) {
      release?.();
      sendProblem(res, toReplygateError(err), String(res.getHeader(HTTP_HEADERS.correlationId)));
    }
  });

  router.get(`${GATEWAY_PATHS.replies}/:id/events`, async (req, res) => {
    let id: string;
    let record: AsyncReplyRecord;
    let release: () => void;
    try {
      ({ id, record } = await lookup(req, res));
      // A stream is a watcher for its whole life; refused before any header is sent.
      release = acquireWatcher(id, res);
    } catch (err) {
      sendProblem(res, toReplygateError(err), String(res.getHeader(HTTP_HEADERS.correlationId)));
      return;
    }
    res.status(200);
    res.setHeader('content-type', 'text/event-stream');
    res.flushHeaders();
    res.write(`event: pending\ndata: ${JSON.stringify({ correlationId: id })}\n\n`);
    try {
      const reply = await awaitReply(id, record, deps.maxWaitMs, res);
      if (res.destroyed) return;
      if (reply === undefined) {
        res.write(`event: timeout\ndata: ${JSON.stringify({ correlationId: id, waitedMs: deps.maxWaitMs })}\n\n`);
      } else {
        res.write(`event: reply\ndata: ${JSON.stringify(replyEvent(id, reply))}\n\n`);
      }
    } catch (err) {
      const e = toReplygateError(err);
      res.write(`event: error\ndata: ${JSON.stringify({ correlationId: id, error: e.code, detail: e.message })}\n\n`);
    } finally {
      release();
    }
    res.end();
  });

  return router;
}

/** The route a fetched reply belongs to, as the record kept it. */
function routeRef(record: AsyncReplyRecord): ReplyRouteRef {
  return { name: record.route, replyContentType: record.replyContentType };
}

function sendStoredReply(res: Response, reply: DecodedReply): void {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-type', reply.contentType);
  res.setHeader('replygate-stored-reply', 'true');
  res.end(reply.body);
}

/** An SSE `reply` event: the body as text when it is text, else base64. */
function replyEvent(id: string, reply: DecodedReply): Record<string, unknown> {
  return {
    correlationId: id,
    status: reply.status,
    headers: { ...reply.headers, 'content-type': reply.contentType },
    ...replyBodyField(reply),
  };
}
