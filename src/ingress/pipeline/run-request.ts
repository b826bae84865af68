import type { AdmissionGate } from '../../admission/admit';
import { admit } from '../../admission/admit';
import { ReplyTimeoutError } from '../../errors/reply-errors';
import { toReplygateError } from '../../errors/to-replygate-error';
import type { AsyncReplyRegistry } from '../../exchange/async-reply-registry';
import { awaitReply, type AwaitedReply, type AwaitedSink, type AwaitReplyOptions } from '../../exchange/await-reply';
import type { GatherRegistry } from '../../exchange/gather-registry';
import { callerKey } from '../../exchange/idempotency-scope';
import type { RedisIdempotencyStore } from '../../exchange/idempotency-store';
import type { PendingRegistry } from '../../exchange/pending-registry';
import type { RequestBroker } from '../../exchange/request-broker';
import type { StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { StreamRegistry } from '../../exchange/stream-registry';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import type { Logger } from '../../observability/logger';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import { buildOutgoingRequest } from '../../routing/build-outgoing-request';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { RouteDefinition } from '../../config/routes-file';
import type { CallbackRegistrar } from '../../webhooks/callback-registrar';
import { parsePrefer } from '../http/prefer-header';
import { chooseAnswerMode } from './answer-mode';
import { claimIdempotencyKey } from './idempotent-claim';
import type { Answer, Inbound } from './inbound';

/** What the request path needs from the running replica. Without a registry, its mode is not served. */
export interface PipelineDeps {
  replyTopic: string;
  matcher: () => RouteMatcher;
  gate: AdmissionGate;
  broker: RequestBroker;
  registry: PendingRegistry;
  metrics: GatewayMetrics;
  log: Logger;
  decoder: StoredReplyDecoder;
  gathers?: GatherRegistry | undefined;
  streams?: StreamRegistry | undefined;
  asyncReplies?: AsyncReplyRegistry | undefined;
  idempotency?: RedisIdempotencyStore | undefined;
  callbacks?: CallbackRegistrar | undefined;
  /** Observe `replygate_reply_latency_seconds` (HTTP does; WebSocket frames never have). @defaultValue true */
  observeLatency?: boolean;
  /** See {@link AwaitReplyOptions.unreadableDeadline}. */
  unreadableDeadline?: AwaitReplyOptions['unreadableDeadline'];
}

/**
 * The request path, written once for HTTP and WebSocket: match, admit, read the body, build the
 * outgoing request, choose the answer mode, then publish and wait (or stream, gather, accept) and
 * answer. Every request is counted here, once, in `replygate_requests_total{route,status}`.
 * Never throws: whatever goes wrong is answered as a problem.
 *
 * A parked request holds no suspended function: what follows the match ({@link serveRoute}) has
 * returned by then, leaving one promise step for the answer that holds only what the answer needs,
 * not the request's headers, body or outgoing message.
 */
export function runRequest(inbound: Inbound, answer: Answer, deps: PipelineDeps, correlationId: string): void {
  const startedAt = process.hrtime.bigint();
  const run = new RequestRun(answer, deps, correlationId);
  try {
    // A CORS preflight is answered for the route it asks about, before any stage: browsers send no credentials on it.
    const preflight = answer.beforeMatch(deps.matcher());
    if (preflight !== undefined) {
      run.routeName = preflight.name;
      run.done('204');
      return;
    }
    const { route, params } = deps.matcher().match(inbound.method, inbound.path);
    run.routeName = route.name;
    answer.routed(route);
    serveRoute(inbound, answer, deps, correlationId, { route, params, startedAt }, run).then(
      (served) => run.served(served),
      (err: unknown) => run.failed(err),
    );
  } catch (err) {
    run.failed(err);
  }
}

/** What {@link serveRoute} returns for a request left waiting for its reply: its {@link RequestRun} answers it. */
const PARKED = Symbol('parked');

/**
 * One request's count and its answer to a failure; while the request waits for its reply, what
 * answering it needs (it is the wait's {@link AwaitedSink}).
 */
class RequestRun implements AwaitedSink {
  routeName = 'unmatched';
  /** Set when the request is parked. */
  private route: RouteDefinition | undefined = undefined;
  private record: ReplyRecord | undefined = undefined;

  constructor(
    private readonly answer: Answer,
    private readonly deps: PipelineDeps,
    private readonly correlationId: string,
  ) {}

  /** Count the request under `status` (`undefined`: not counted). */
  done(status: string | undefined): void {
    if (status !== undefined) this.deps.metrics.requests.inc({ route: this.routeName, status });
  }

  /** Answer what went wrong as a problem, and count it. */
  failed(err: unknown): void {
    const error = toReplygateError(err);
    if (error.status >= 500 && error.code === 'RG_INTERNAL') {
      this.deps.log.error(
        { err, correlationId: this.correlationId, route: this.routeName },
        this.answer.failureMessage,
      );
    }
    let status: string | undefined;
    try {
      status = this.answer.problem(error, this.correlationId);
    } catch (cause) {
      this.deps.log.error({ err: cause, correlationId: this.correlationId }, 'could not answer a failed request');
    }
    this.done(status);
  }

  /** What {@link serveRoute} came to: a status, or a wait that answers when it ends. */
  served(served: string | undefined | typeof PARKED): void {
    if (served !== PARKED) this.done(served);
  }

  /** The request waits for its reply to `route` ({@link awaited} or {@link awaitFailed} follows). */
  parked(route: RouteDefinition, record: ReplyRecord): void {
    this.route = route;
    this.record = record;
  }

  awaitFailed(err: unknown): void {
    this.answer.waitEnded();
    this.failed(err);
  }

  awaited(awaited: AwaitedReply): void {
    this.answer.waitEnded();
    try {
      const status = answerAwaited(
        awaited,
        this.answer,
        this.deps,
        this.route as RouteDefinition,
        this.record as ReplyRecord,
      );
      if (typeof status === 'object') {
        status.then(
          (s) => this.done(s),
          (err: unknown) => this.failed(err),
        );
      } else {
        this.done(status);
      }
    } catch (err) {
      this.failed(err);
    }
  }
}

/** The matched route, its path parameters, and when the request arrived. */
interface Matched {
  route: RouteDefinition;
  params: Record<string, string>;
  startedAt: bigint;
}

/** A request's reply record (async fetches, and a timeout answered 202). */
interface ReplyRecord {
  route: string;
  replyContentType: RouteDefinition['replyContentType'];
  owner: string;
}

/** Everything after the match; resolves to the status to count (rejects with what to answer). */
async function serveRoute(
  inbound: Inbound,
  answer: Answer,
  deps: PipelineDeps,
  correlationId: string,
  { route, params, startedAt }: Matched,
  run: RequestRun,
): Promise<string | undefined | typeof PARKED> {
  const { broker, metrics } = deps;
  // Stages (authentication, rate limits) refuse before the gateway spends anything on the request.
  const identity = await admit(
    {
      transport: inbound.transport,
      route,
      params,
      correlationId,
      headers: inbound.admissionHeaders,
      clientIp: inbound.clientIp,
      setHeader: (name, value) => answer.setHeader(name, value),
      appendHeader: (name, value) => answer.appendHeader(name, value),
    },
    deps.gate,
  );
  const body = await inbound.readBody(route);
  const request = buildOutgoingRequest(
    {
      route,
      params,
      correlationId,
      replyTopic: deps.replyTopic,
      method: inbound.method,
      path: inbound.path,
      query: inbound.query,
      headers: inbound.headers,
      body: body.bytes,
      contentType: body.contentType,
      parsedBody: body.parsed,
    },
    { identity, trace: inbound.trace },
  );
  const asyncReplies = deps.asyncReplies;
  const respondAsync = asyncReplies !== undefined && parsePrefer(inbound.headers[HTTP_HEADERS.prefer]).respondAsync;
  // Checked against the route's callbacks.allow before anything is claimed or published (400).
  const callback = deps.callbacks?.resolve(route, inbound.headers[HTTP_HEADERS.callbackUrl], respondAsync);
  const mode = chooseAnswerMode(
    route,
    { gather: deps.gathers !== undefined, stream: deps.streams !== undefined, async: asyncReplies !== undefined },
    respondAsync,
  );
  if (mode === 'gather' && route.gather !== undefined) {
    return answer.gathered({ ...request, gather: route.gather.count }, { ...route, gather: route.gather });
  }
  // Parts are written to the client as they land; idempotency and async do not apply.
  if (mode === 'stream') return answer.streamed(request, route);
  const claim = await claimIdempotencyKey(inbound, answer, deps, { route, identity, body, correlationId });
  const replyId = claim.replyId;
  const record: ReplyRecord = {
    route: route.name,
    replyContentType: route.replyContentType,
    owner: callerKey(identity, inbound.clientIp),
  };
  if (mode === 'async' && asyncReplies !== undefined) {
    // Recorded before publishing, so a GET racing a very fast reply already finds the record.
    const token = await asyncReplies.register(replyId, record);
    if (callback !== undefined && !claim.followExisting) {
      // Before publishing: whichever relay stores the reply finds the hook.
      await deps.callbacks?.register(replyId, callback);
      answer.setHeader(HTTP_HEADERS.callbackState, 'pending');
    }
    if (!claim.followExisting) {
      deps.registry.expectUnwaited(replyId, route.timeoutMs * 2);
      try {
        await broker.publishOnly(request);
      } catch (err) {
        await claim.release?.().catch(() => undefined);
        throw err;
      }
    }
    return answer.accepted(replyId, token, true);
  }
  run.parked(route, record);
  awaitReply(
    broker,
    claim.followExisting ? { kind: 'follow', replyId } : { kind: 'exchange', request },
    route,
    {
      onPark: answer,
      decoder: deps.decoder,
      metrics,
      startedAt: deps.observeLatency === false ? undefined : startedAt,
      release: claim.release,
      unreadableDeadline: deps.unreadableDeadline,
    },
    run,
  );
  // This frame, with the request's body and message, ends here; `run` answers when the wait does.
  return PARKED;
}

/** Answer how the wait ended: the reply, a timeout (504, or a fetchable 202), or nobody to answer. */
function answerAwaited(
  awaited: AwaitedReply,
  answer: Answer,
  deps: PipelineDeps,
  route: RouteDefinition,
  record: ReplyRecord,
): string | undefined | Promise<string> {
  if (awaited.kind === 'client-closed') {
    // The client went away; there is no one to answer.
    return answer.clientClosed();
  }
  if (awaited.kind === 'timeout') {
    const { replyId } = awaited;
    const asyncReplies = deps.asyncReplies;
    if (route.timeoutResponse === 202 && asyncReplies !== undefined) {
      // The route prefers a fetchable 202 to a 504: the late reply is kept for REPLYGATE_REPLY_TTL_MS.
      return asyncReplies.register(replyId, record).then((token) => answer.accepted(replyId, token, false));
    }
    throw new ReplyTimeoutError(replyId, route.topic, awaited.waitedMs);
  }
  return answer.reply(awaited.reply);
}
