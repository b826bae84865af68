import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
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
import type { TraceContext } from '../../protocol/trace-context';
import { DEFAULT_REPLY_HEADER_LIMITS } from '../../protocol/reply-headers';
import { acceptBody, type RequestBody } from '../../routing/accept-body';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { CallbackRegistrar } from '../../webhooks/callback-registrar';
import type { Inbound } from '../pipeline/inbound';
import { runRequest, type PipelineDeps } from '../pipeline/run-request';
import { openGatewayResponse } from './gateway-response';
import { HttpAnswer, type HttpAnswerDeps } from './http-answer';
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
export type GatewayHandler = (req: IncomingMessage, res: ServerResponse, target: RequestTarget) => void;

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
  const answerDeps: HttpAnswerDeps = { broker, decoder, gathers: deps.gathers, streams: deps.streams };
  // Not async: a parked request holds no suspended function (see runRequest).
  return function gatewayHandler(req, res, target): void {
    const correlationId = newCorrelationId(config.instanceId);
    const observation = deps.observe?.(req, correlationId);
    openGatewayResponse(res, correlationId, observation);
    const answer = new HttpAnswer(req, res, target.path, answerDeps, observation);
    runRequest(new HttpInbound(req, target, observation?.trace), answer, pipeline, correlationId);
  };
}

/**
 * One HTTP request as the request path sees it. An object with methods rather than a literal
 * with a `readBody` closure: it is held for as long as the request is parked.
 */
class HttpInbound implements Inbound {
  readonly transport = 'http';

  constructor(
    private readonly req: IncomingMessage,
    private readonly target: RequestTarget,
    readonly trace: TraceContext | undefined,
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get path(): string {
    return this.target.path;
  }

  get query(): Record<string, unknown> {
    return queryOf(this.target.search);
  }

  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get admissionHeaders(): IncomingHttpHeaders {
    return this.req.headers;
  }

  get clientIp(): string | undefined {
    return this.target.clientIp;
  }

  get fingerprintUrl(): string {
    return this.target.url;
  }

  async readBody(route: RouteDefinition): Promise<RequestBody> {
    return acceptBody(route, await readBody(this.req, route.maxBodyBytes), this.req.headers['content-type']);
  }
}
