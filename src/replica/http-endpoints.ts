import type { Router } from 'express';
import { createFrameStages, createSecurityStages } from '../admission/admission-stages';
import { redisLimiters } from '../admission/route-limiters';
import { AsyncReplyRegistry } from '../exchange/async-reply-registry';
import { RedisIdempotencyStore } from '../exchange/idempotency-store';
import { CommandReplyInterest } from '../exchange/command-reply-interest';
import { EventAwaitPublisher } from '../exchange/event-await-publisher';
import { RequestBroker } from '../exchange/request-broker';
import { RedisEventInterestStore } from '../redis/redis-event-interest-store';
import { resolveReplyInterest } from '../routing/event-interest';
import { WatcherLimiter } from '../exchange/watcher-limiter';
import { createGatewayHandler } from '../ingress/http/gateway-handler';
import { createRepliesRouter } from '../ingress/http/replies-router';
import { createOpenApiRouter } from '../ingress/admin/openapi-router';
import { WebSocketGateway } from '../ingress/ws/ws-gateway';
import { CallbackRegistrar } from '../webhooks/callback-registrar';
import type { HttpRole } from './http-role';
import { callbackHooks } from './relay-role';
import type { ReplicaContext } from './replica-context';

/** What the `http` role serves: the gateway handler, its routers and the WebSocket endpoint. */
export interface HttpEndpoints {
  gatewayHandler: ReturnType<typeof createGatewayHandler>;
  routers: Router[];
  ws: WebSocketGateway | undefined;
}

/**
 * Build the `http` role's endpoints over the shared context: the broker (publisher wrapped for
 * tracing), async records, idempotency, callbacks, admission stages for HTTP and WebSocket alike.
 * A pure factory: nothing here starts or stops.
 */
export function createHttpEndpoints(ctx: ReplicaContext, role: HttpRole): HttpEndpoints {
  const { config, redis, registry, metrics, log, replyDecoder, recordTtlMs } = ctx;
  const routes = ctx.routes ?? [];
  const table = ctx.routeTable!;
  const routers: Router[] = [createOpenApiRouter(() => table.routes)];
  // Event routes (await) register their waiter before the command is published, in every mode.
  const publisher = ctx.observability.wrapPublisher(role.publisher);
  const interests = new RedisEventInterestStore(redis, config.keyPrefix, ctx.store);
  const fromReply = new CommandReplyInterest({
    registry,
    interests,
    replies: ctx.store,
    decoder: replyDecoder,
    resolve: resolveReplyInterest,
    log: log.child({ component: 'events' }),
  });
  const awaiting = new EventAwaitPublisher(publisher, interests, fromReply);
  role.eventWaiters = awaiting;
  const broker = new RequestBroker(awaiting, registry, metrics, log, role.notifier, config.instanceId);
  const asyncReplies = new AsyncReplyRegistry(redis, config.keyPrefix, recordTtlMs);
  // Authentication and rate limits, built once for HTTP requests and WebSocket frames alike.
  const security = { settings: config, routes, createLimiter: redisLimiters(redis, config.keyPrefix) };
  const frameStages = createFrameStages(security);
  const admissionBlocker = (): string | undefined => role.admissionBlocker();
  const admissionRecovery = (reason: string): Promise<void> => role.admissionRecovery(reason);
  const ws = config.wsEnabled
    ? new WebSocketGateway({
        instanceId: config.instanceId,
        replyTopic: config.replyTopic,
        matcher: () => table.matcher,
        broker,
        registry,
        metrics,
        log: log.child({ component: 'ws' }),
        replyDecoder,
        admissionBlocker,
        admissionRecovery,
        maxPending: config.maxPending,
        maxInFlight: config.wsMaxInFlight,
        maxBufferedBytes: config.wsMaxBufferedBytes,
        heartbeatMs: config.wsHeartbeatMs,
        stages: frameStages,
        // A JSON frame around the largest body any route accepts (reloads keep the first bound).
        maxFrameBytes: Math.max(config.maxBodyBytes, ...routes.map((r) => r.maxBodyBytes)) * 2 + 64 * 1024,
      })
    : undefined;
  const callbacks = new CallbackRegistrar(callbackHooks(ctx));
  routers.push(
    createRepliesRouter({
      registry: asyncReplies,
      store: ctx.store,
      broker,
      maxWaitMs: config.maxWaitMs,
      instanceId: config.instanceId,
      replyDecoder,
      // Long-polls and SSE streams have their own bound, apart from REPLYGATE_MAX_PENDING.
      watchers: new WatcherLimiter(config),
      callbackState: (id) => callbacks.state(id),
    }),
  );
  const gatewayHandler = createGatewayHandler({
    config,
    matcher: () => table.matcher,
    observe: ctx.observability.observe,
    broker,
    asyncReplies,
    streams: ctx.streams,
    gathers: ctx.gathers,
    callbacks,
    idempotency: new RedisIdempotencyStore(redis, config.keyPrefix, recordTtlMs),
    registry,
    metrics,
    log,
    admissionBlocker,
    admissionRecovery,
    stages: createSecurityStages(security, frameStages),
    replyDecoder,
  });
  return { gatewayHandler, routers, ws };
}
