import type { Request, Response } from 'express';
import type { GatewayConfig } from '../../config/gateway-config';
import { BadRequestError, IdempotencyKeyReusedError, InvalidJsonError } from '../../errors/http-errors';
import { ReplyTimeoutError } from '../../errors/reply-errors';
import type { CancelWaiter } from '../../exchange/pending-registry';
import { awaitReply } from '../../exchange/await-reply';
import { callerKey, idempotencyScope } from '../../exchange/idempotency-scope';
import {
  IDEMPOTENCY_KEY_PATTERN,
  requestFingerprint,
  type RedisIdempotencyStore,
} from '../../exchange/idempotency-store';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import { buildOutgoingRequest } from '../../routing/build-outgoing-request';
import type { PendingRegistry } from '../../exchange/pending-registry';
import type { RequestBroker } from '../../exchange/request-broker';
import type { Logger } from '../../observability/logger';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import { newCorrelationId } from '../../protocol/correlation-id';
import { assertAccepted, isJsonMediaType } from '../../routing/content-negotiation';
import { sendProblem } from './problem-response';
import { toReplygateError } from '../../errors/to-replygate-error';
import { readBody } from './read-body';
import { applyReplyHeaders } from './reply-headers-writer';
import { createStoredReplyDecoder, type StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import { DEFAULT_REPLY_HEADER_LIMITS } from '../../protocol/reply-headers';
import { sendAccepted } from './accepted-response';
import { answerStreamed } from './stream-response';
import { answerGathered } from './gather-response';
import type { GatherRegistry } from '../../exchange/gather-registry';
import type { StreamRegistry } from '../../exchange/stream-registry';
import type { AsyncReplyRegistry } from '../../exchange/async-reply-registry';
import { parsePrefer } from './prefer-header';
import { answerCorsPreflight } from '../../admission/cors-stage';
import type { AdmissionContext, RequestStage } from '../../admission/admission-context';
import { admit, type AdmissionGate } from '../../admission/admit';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { RequestObserver } from '../../observability/request-observer';
import type { CallbackRegistrar } from '../../webhooks/callback-registrar';
import { HTTP_HEADERS } from '../../protocol/http-headers';

/** What the gateway handler needs from the running replica. */
export interface GatewayHandlerDeps {
  config: Pick<GatewayConfig, 'instanceId' | 'replyTopic' | 'maxPending'>;
  matcher: () => RouteMatcher;
  broker: RequestBroker;
  registry: PendingRegistry;
  metrics: GatewayMetrics;
  log: Logger;
  /** Scatter-gather requests; without it `gather` routes answer like any other. */
  gathers?: GatherRegistry;
  /** Streamed replies; without it `stream: true` routes answer like any other. */
  streams?: StreamRegistry;
  /** Records for replies fetched later; without it `Prefer: respond-async` is ignored. */
  asyncReplies?: AsyncReplyRegistry;
  /** Steps run after routing and before the body is read (authentication, rate limits). */
  stages?: readonly RequestStage[];
  /** Idempotency keys; without it the `Idempotency-Key` header is ignored. */
  idempotency?: RedisIdempotencyStore;
  /** Why new requests cannot be admitted right now, or `undefined` when they can. */
  admissionBlocker: () => string | undefined;
  /** Per-request tracing and logging hook; without it no `traceparent` is sent on or logged. */
  observe?: RequestObserver;
  /** Webhook hooks; without it a `Callback-Url` header is ignored. */
  callbacks?: CallbackRegistrar;
  /**
   * The replica's one reply decoder (REPLYGATE_MAX_REPLY_HEADERS / REPLYGATE_MAX_REPLY_HEADER_BYTES,
   * dropped-header counting), shared with streams, gathers, `/v1/replies`, WebSocket and webhooks.
   * Without it (tests) a decoder with the default caps counts into `metrics`.
   */
  replyDecoder?: StoredReplyDecoder;
}

/**
 * The express handler behind every route in the routes file: accept, correlate, publish, park,
 * answer. Every response, success or error, carries `X-Correlation-Id`; a client-supplied one is
 * ignored so a caller cannot pick another caller's id.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps) {
  const { config, broker, registry, metrics, log } = deps;
  const replyDecoder =
    deps.replyDecoder ?? createStoredReplyDecoder({ limits: DEFAULT_REPLY_HEADER_LIMITS, metrics, log });
  const gate: AdmissionGate = {
    stages: deps.stages ?? [],
    blocker: deps.admissionBlocker,
    pending: () => registry.size,
    maxPending: config.maxPending,
  };
  return async function gatewayHandler(req: Request, res: Response): Promise<void> {
    const correlationId = newCorrelationId(config.instanceId);
    res.setHeader(HTTP_HEADERS.correlationId, correlationId);
    const observation = deps.observe?.(req, res, correlationId);
    let routeName = 'unmatched';
    const startedAt = process.hrtime.bigint();
    try {
      const path = req.path;
      // A CORS preflight is answered for the route it asks about, before any stage: browsers send no credentials on it.
      const preflight = answerCorsPreflight(req, res, deps.matcher());
      if (preflight !== undefined) {
        metrics.requests.inc({ route: preflight.name, status: '204' });
        return;
      }
      const { route, params } = deps.matcher().match(req.method, path);
      routeName = route.name;
      observation?.setRoute(route.name, route.topic);
      const ctx: AdmissionContext = {
        transport: 'http',
        route,
        params,
        correlationId,
        headers: req.headers,
        clientIp: req.ip,
        setHeader: (name, value) => void res.setHeader(name, value),
        appendHeader: (name, value) => void res.append(name, value),
      };
      // Stages (authentication, rate limits) refuse before the gateway spends anything on the request.
      await admit(ctx, gate);

      const body = await readBody(req, route.maxBodyBytes);
      const contentTypeHeader = req.headers['content-type'];
      let parsedBody: unknown;
      if (body.length > 0) {
        const type = assertAccepted(contentTypeHeader, route.accepts);
        if (isJsonMediaType(type)) parsedBody = parseJson(body);
      }
      const request: OutgoingRequest = buildOutgoingRequest(
        {
          route,
          params,
          correlationId,
          replyTopic: config.replyTopic,
          method: req.method,
          path,
          query: toQuery(req.query),
          headers: req.headers,
          body,
          contentType: contentTypeHeader,
          parsedBody,
        },
        { identity: ctx.identity, trace: observation?.trace },
      );
      const onPark = (cancel: CancelWaiter): void => {
        res.on('close', () => {
          if (!res.writableEnded) cancel('client-closed');
        });
      };
      // Checked against the route's callbacks.allow before anything is claimed or published (400).
      const callback = deps.callbacks?.resolve(
        route,
        req.headers[HTTP_HEADERS.callbackUrl],
        deps.asyncReplies !== undefined && parsePrefer(req.headers[HTTP_HEADERS.prefer]).respondAsync,
      );
      if (route.gather !== undefined && deps.gathers !== undefined) {
        await answerGathered(
          res,
          broker,
          deps.gathers,
          { ...request, gather: route.gather.count },
          {
            ...route,
            gather: route.gather,
          },
          replyDecoder,
        );
        metrics.requests.inc({ route: routeName, status: String(res.statusCode) });
        return;
      }
      if (route.stream && deps.streams !== undefined) {
        // Parts are written to the client as they land; idempotency and async do not apply.
        await answerStreamed(res, broker, deps.streams, request, route, replyDecoder);
        metrics.requests.inc({ route: routeName, status: String(res.statusCode) });
        return;
      }
      let replyId = correlationId;
      let followExisting = false;
      let releaseClaim: (() => Promise<void>) | undefined;
      const idempotencyKey = req.headers[HTTP_HEADERS.idempotencyKey];
      if (idempotencyKey !== undefined && deps.idempotency !== undefined) {
        if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
          throw new BadRequestError('Idempotency-Key must be 1-255 printable ASCII characters without spaces');
        }
        const store = deps.idempotency;
        const fingerprint = requestFingerprint(req.method, req.originalUrl, body);
        // Route and caller: another caller's identical key must neither replay nor reveal this one.
        const scope = idempotencyScope(route.name, ctx.identity, req.ip);
        const claim = await store.claim(scope, idempotencyKey, fingerprint, correlationId);
        if (claim.kind === 'mismatch') throw new IdempotencyKeyReusedError();
        if (claim.kind === 'existing') {
          // A retry: answer with the first attempt's reply, whichever replica it went through.
          replyId = claim.correlationId;
          followExisting = true;
          res.setHeader(HTTP_HEADERS.correlationId, replyId);
          res.setHeader(HTTP_HEADERS.idempotentReplayed, 'true');
          metrics.idempotentReplays.inc();
        } else {
          // Released when nothing was published, so a retry publishes again instead of waiting for nothing.
          releaseClaim = () => store.release(scope, idempotencyKey, fingerprint, correlationId);
        }
      }
      const asyncReplies = deps.asyncReplies;
      const record = {
        route: route.name,
        replyContentType: route.replyContentType,
        owner: callerKey(ctx.identity, req.ip),
      };
      if (asyncReplies !== undefined && parsePrefer(req.headers[HTTP_HEADERS.prefer]).respondAsync) {
        // Recorded before publishing, so a GET racing a very fast reply already finds the record.
        const token = await asyncReplies.register(replyId, record);
        if (callback !== undefined && !followExisting) {
          // Before publishing: whichever relay stores the reply finds the hook.
          await deps.callbacks?.register(replyId, callback);
          res.setHeader(HTTP_HEADERS.callbackState, 'pending');
        }
        if (!followExisting) {
          registry.expectUnwaited(replyId, route.timeoutMs * 2);
          try {
            await broker.publishOnly(request);
          } catch (err) {
            await releaseClaim?.().catch(() => undefined);
            throw err;
          }
        }
        sendAccepted(res, replyId, token, true);
        metrics.requests.inc({ route: routeName, status: '202' });
        return;
      }
      const awaited = await awaitReply(
        broker,
        followExisting ? { kind: 'follow', replyId } : { kind: 'exchange', request },
        route,
        { onPark, decoder: replyDecoder, metrics, startedAt, release: releaseClaim },
      );
      if (awaited.kind === 'client-closed') {
        // The client went away; there is no one to answer.
        metrics.requests.inc({ route: routeName, status: '499' });
        return;
      }
      if (awaited.kind === 'timeout') {
        if (route.timeoutResponse === 202 && asyncReplies !== undefined) {
          // The route prefers a fetchable 202 to a 504: the late reply is kept for REPLYGATE_REPLY_TTL_MS.
          sendAccepted(res, replyId, await asyncReplies.register(replyId, record), false);
          metrics.requests.inc({ route: routeName, status: '202' });
          return;
        }
        throw new ReplyTimeoutError(replyId, route.topic, awaited.waitedMs);
      }
      const reply = awaited.reply;
      res.status(reply.status);
      applyReplyHeaders(res, reply);
      observation?.replyTrace(reply.traceparent);
      res.setHeader('content-type', reply.contentType);
      res.end(reply.body);
      metrics.requests.inc({ route: routeName, status: String(reply.status) });
    } catch (err) {
      const error = toReplygateError(err);
      if (error.status >= 500 && error.code === 'RG_INTERNAL') {
        log.error({ err, correlationId, route: routeName }, 'request failed');
      }
      sendProblem(res, error, String(res.getHeader(HTTP_HEADERS.correlationId) ?? correlationId));
      metrics.requests.inc({ route: routeName, status: String(error.status) });
    }
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidJsonError((err as Error).message, { cause: err });
  }
}

function toQuery(query: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (typeof query === 'object' && query !== null) {
    for (const [k, v] of Object.entries(query)) out[k] = v;
  }
  return out;
}
