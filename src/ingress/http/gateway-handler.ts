import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GatewayConfig } from '../../config/gateway-config';
import type { AdmissionGate } from '../../admission/admit';
import type { RequestStage } from '../../admission/admission-context';
import type { AsyncReplyRegistry } from '../../exchange/async-reply-registry';
import type { GatherRegistry } from '../../exchange/gather-registry';
import type { RedisIdempotencyStore } from '../../exchange/idempotency-store';
import type { PendingRegistry } from '../../exchange/pending-registry';
import type { RequestBroker } from '../../exchange/request-broker';
import { createStoredReplyDecoder, type StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { StreamRegistry } from '../../exchange/stream-registry';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import type { Logger } from '../../observability/logger';
import type { RequestObserver } from '../../observability/request-observer';
import { newCorrelationId } from '../../protocol/correlation-id';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import { DEFAULT_REPLY_HEADER_LIMITS } from '../../protocol/reply-headers';
import { acceptBody } from '../../routing/accept-body';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { CallbackRegistrar } from '../../webhooks/callback-registrar';
import { runRequest, type PipelineDeps } from '../pipeline/run-request';
import { HttpAnswer } from './http-answer';
import { readBody } from './read-body';
import { queryOf, type RequestTarget } from './request-target';

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
  /** Waits out a passing blocker (see `AdmissionGate.recover`). */
  admissionRecovery?: (reason: string) => Promise<void>;
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

/** Serves one request to a route, given its parsed target (see {@link createApp}). */
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => Promise<void>;

/**
 * The handler behind every route in the routes file, on node's own request and response (no
 * express on this path): accept, correlate, publish, park, answer (the request path itself is
 * {@link runRequest}). Every response, success or error,
 * carries `X-Correlation-Id`; a client-supplied one is ignored so a caller cannot pick another
 * caller's id.
 */
export function createGatewayHandler(deps: GatewayHandlerDeps): GatewayHandler {
  const { config, broker, registry, metrics, log } = deps;
  const decoder = deps.replyDecoder ?? createStoredReplyDecoder({ limits: DEFAULT_REPLY_HEADER_LIMITS, metrics, log });
  const gate: AdmissionGate = {
    stages: deps.stages ?? [],
    blocker: deps.admissionBlocker,
    ...(deps.admissionRecovery ? { recover: deps.admissionRecovery } : {}),
    pending: () => registry.size,
    maxPending: config.maxPending,
  };
  const pipeline: PipelineDeps = {
    replyTopic: config.replyTopic,
    matcher: deps.matcher,
    gate,
    broker,
    registry,
    metrics,
    log,
    decoder,
    gathers: deps.gathers,
    streams: deps.streams,
    asyncReplies: deps.asyncReplies,
    idempotency: deps.idempotency,
    callbacks: deps.callbacks,
  };
  return async function gatewayHandler(req, res, target): Promise<void> {
    const correlationId = newCorrelationId(config.instanceId);
    res.setHeader(HTTP_HEADERS.correlationId, correlationId);
    const observation = deps.observe?.(req, res, correlationId);
    const answer = new HttpAnswer(
      req,
      res,
      target.path,
      { broker, decoder, gathers: deps.gathers, streams: deps.streams },
      observation,
    );
    await runRequest(
      {
        transport: 'http',
        method: req.method ?? 'GET',
        path: target.path,
        query: queryOf(target.search),
        headers: req.headers,
        admissionHeaders: req.headers,
        clientIp: target.clientIp,
        fingerprintUrl: target.url,
        readBody: async (route) =>
          acceptBody(route, await readBody(req, route.maxBodyBytes), req.headers['content-type']),
        trace: observation?.trace,
      },
      answer,
      pipeline,
      correlationId,
    );
  };
}
