import type { AdmissionGate } from '../../admission/admit';
import { admit } from '../../admission/admit';
import { ReplyTimeoutError } from '../../errors/reply-errors';
import { toReplygateError } from '../../errors/to-replygate-error';
import type { AsyncReplyRegistry } from '../../exchange/async-reply-registry';
import { awaitReply, type AwaitReplyOptions } from '../../exchange/await-reply';
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
 */
export async function runRequest(
  inbound: Inbound,
  answer: Answer,
  deps: PipelineDeps,
  correlationId: string,
): Promise<void> {
  const { broker, metrics } = deps;
  const startedAt = process.hrtime.bigint();
  let routeName = 'unmatched';
  let status: string | undefined;
  try {
    // A CORS preflight is answered for the route it asks about, before any stage: browsers send no credentials on it.
    const preflight = answer.beforeMatch(deps.matcher());
    if (preflight !== undefined) {
      routeName = preflight.name;
      status = '204';
      return;
    }
    const { route, params } = deps.matcher().match(inbound.method, inbound.path);
    routeName = route.name;
    answer.routed(route);
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
      status = await answer.gathered({ ...request, gather: route.gather.count }, { ...route, gather: route.gather });
      return;
    }
    // Parts are written to the client as they land; idempotency and async do not apply.
    if (mode === 'stream') {
      status = await answer.streamed(request, route);
      return;
    }
    const claim = await claimIdempotencyKey(inbound, answer, deps, { route, identity, body, correlationId });
    const replyId = claim.replyId;
    const record = {
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
      status = answer.accepted(replyId, token, true);
      return;
    }
    let awaited;
    try {
      awaited = await awaitReply(
        broker,
        claim.followExisting ? { kind: 'follow', replyId } : { kind: 'exchange', request },
        route,
        {
          onPark: (cancel) => answer.onPark(cancel),
          decoder: deps.decoder,
          metrics,
          startedAt: deps.observeLatency === false ? undefined : startedAt,
          release: claim.release,
          unreadableDeadline: deps.unreadableDeadline,
        },
      );
    } finally {
      answer.waitEnded();
    }
    if (awaited.kind === 'client-closed') {
      // The client went away; there is no one to answer.
      status = answer.clientClosed();
      return;
    }
    if (awaited.kind === 'timeout') {
      if (route.timeoutResponse === 202 && asyncReplies !== undefined) {
        // The route prefers a fetchable 202 to a 504: the late reply is kept for REPLYGATE_REPLY_TTL_MS.
        status = answer.accepted(replyId, await asyncReplies.register(replyId, record), false);
        return;
      }
      throw new ReplyTimeoutError(replyId, route.topic, awaited.waitedMs);
    }
    status = answer.reply(awaited.reply);
  } catch (err) {
    const error = toReplygateError(err);
    if (error.status >= 500 && error.code === 'RG_INTERNAL') {
      deps.log.error({ err, correlationId, route: routeName }, answer.failureMessage);
    }
    status = answer.problem(error, correlationId);
  } finally {
    if (status !== undefined) metrics.requests.inc({ route: routeName, status });
  }
}
