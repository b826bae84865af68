import type { GatewayApp } from '../../src/ingress/http/create-app';
import type { Redis } from 'ioredis';
import type { GatewayConfig } from '../../src/config/gateway-config';
import type { RouteSecurityDefaults } from '../../src/config/route-security';
import { parseRoutes } from '../../src/config/routes-file';
import type { RequestStage } from '../../src/admission/admission-context';
import { PendingRegistry, type ReplyReader } from '../../src/exchange/pending-registry';
import { RequestBroker } from '../../src/exchange/request-broker';
import { createApp } from '../../src/ingress/http/create-app';
import { createGatewayHandler } from '../../src/ingress/http/gateway-handler';
import { RouteMatcher } from '../../src/routing/route-matcher';
import { RedisIdempotencyStore } from '../../src/exchange/idempotency-store';
import { silentLogger } from '../../src/observability/logger';
import { GatewayMetrics } from '../../src/observability/gateway-metrics';
import { encodeEnvelope, type ReplyEnvelopeMeta } from '../../src/protocol/reply-envelope';
import { Readiness } from '../../src/observability/readiness';
import type { OutgoingRequest, RequestPublisher } from '../../src/protocol/outgoing-request';

/** What a fake service answers: envelope meta fields and a body. */
export interface FakeReply {
  status?: string;
  headers?: Record<string, string> | string;
  contentType?: string;
  error?: string;
  /** The service's W3C `traceparent`, as the relay stores it in the envelope meta. */
  traceparent?: string;
  body?: Buffer | string;
}

/**
 * How the fake publisher behaves for one request: answer it, never answer it (the deadline
 * passes), fail to publish it, or hold the publish open until the test settles it.
 */
export type Behaviour =
  | { kind: 'reply'; reply: (request: OutgoingRequest) => FakeReply }
  | { kind: 'silent' }
  | { kind: 'reject'; error: Error }
  | { kind: 'hold' };

/** A publish held open by the `hold` behaviour. */
export interface HeldPublish {
  request: OutgoingRequest;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * A {@link RequestPublisher} standing in for Kafka and the relay: it records each request and,
 * when told to answer, stores an encoded envelope where the registry's reader looks and notifies
 * the registry, as the Redis keyspace notification would.
 */
export class FakePublisher implements RequestPublisher {
  readonly published: OutgoingRequest[] = [];
  readonly held: HeldPublish[] = [];
  behaviour: Behaviour = { kind: 'reply', reply: () => ({ body: '{}' }) };
  private waiters: ((request: OutgoingRequest) => void)[] = [];

  constructor(
    private readonly store: Map<string, Buffer>,
    private readonly registry: () => PendingRegistry,
  ) {}

  readonly connected = true;
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async publish(request: OutgoingRequest): Promise<void> {
    this.published.push(request);
    const waiter = this.waiters.shift();
    waiter?.(request);
    const b = this.behaviour;
    if (b.kind === 'reject') throw b.error;
    if (b.kind === 'hold') {
      return new Promise<void>((resolve, reject) => this.held.push({ request, resolve, reject }));
    }
    if (b.kind === 'reply') this.answer(request.correlationId, b.reply(request));
  }

  /** Store a reply for `correlationId` and wake its waiter, as relay and notifier would. */
  answer(correlationId: string, reply: FakeReply): void {
    const meta: ReplyEnvelopeMeta = {
      id: correlationId,
      receivedAt: Date.now(),
      topic: 'replies',
      partition: 0,
      offset: '0',
    };
    if (reply.status !== undefined) meta.status = reply.status;
    if (reply.headers !== undefined) {
      meta.headers = typeof reply.headers === 'string' ? reply.headers : JSON.stringify(reply.headers);
    }
    if (reply.contentType !== undefined) meta.contentType = reply.contentType;
    if (reply.error !== undefined) meta.error = reply.error;
    if (reply.traceparent !== undefined) meta.traceparent = reply.traceparent;
    const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
    this.store.set(correlationId, encodeEnvelope({ meta, body }));
    this.registry().notify(correlationId);
  }

  /** The next request published (or the one already published beyond `seen`). */
  nextPublished(seen = this.published.length): Promise<OutgoingRequest> {
    const existing = this.published[seen];
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * The three Redis commands {@link RedisIdempotencyStore} uses, in memory (expiry ignored: tests
 * end long before any TTL).
 */
export function fakeIdempotencyRedis(): Redis {
  const data = new Map<string, string>();
  const fake = {
    data,
    async set(key: string, value: string, ...args: (string | number)[]): Promise<'OK' | null> {
      if (args.includes('NX') && data.has(key)) return null;
      data.set(key, value);
      return 'OK';
    },
    async get(key: string): Promise<string | null> {
      return data.get(key) ?? null;
    },
    // Only the compare-and-delete release script is ever evaluated.
    async eval(_script: string, _numKeys: number, key: string, expected: string): Promise<number> {
      if (data.get(key) !== expected) return 0;
      data.delete(key);
      return 1;
    },
  };
  return fake as unknown as Redis;
}

/** Everything an HTTP-tier test needs: the app and the parts behind it. */
export interface Harness {
  app: GatewayApp;
  publisher: FakePublisher;
  registry: PendingRegistry;
  readiness: Readiness;
  metrics: GatewayMetrics;
  store: Map<string, Buffer>;
  config: Pick<GatewayConfig, 'instanceId' | 'replyTopic' | 'maxPending'>;
  /** Set to make the handler refuse new requests with this reason. */
  blocker: { reason: string | undefined };
}

export const INSTANCE_ID = 'rg-httptest';

/** Build the app around a fake publisher and an in-memory reply store. */
export function createHarness(
  routesYaml: string,
  options: {
    maxPending?: number;
    timeoutMs?: number;
    maxBodyBytes?: number;
    forwardHeaders?: string[];
    /** Honour `Idempotency-Key` with an in-memory stand-in for Redis. */
    idempotency?: boolean;
    /** Stages run after routing (authentication, rate limits, CORS). */
    stages?: readonly RequestStage[];
    /** Gateway defaults the routes fall back to (REPLYGATE_AUTH_DEFAULT, REPLYGATE_RATE_LIMIT_*). */
    routeDefaults?: RouteSecurityDefaults;
    /** Replaces the in-memory store read (e.g. one that rejects, as an unreachable Redis would). */
    readReply?: ReplyReader;
  } = {},
): Harness {
  const routes = parseRoutes(routesYaml, {
    timeoutMs: options.timeoutMs ?? 5000,
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    forwardHeaders: options.forwardHeaders ?? ['accept', 'x-request-id', 'traceparent'],
    ...options.routeDefaults,
  });
  const store = new Map<string, Buffer>();
  const registry = new PendingRegistry(options.readReply ?? ((id) => Promise.resolve(store.get(id) ?? null)));
  const publisher = new FakePublisher(store, () => registry);
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const readiness = new Readiness();
  readiness.markStarted();
  const log = silentLogger();
  const config = { instanceId: INSTANCE_ID, replyTopic: 'replygate.replies', maxPending: options.maxPending ?? 100 };
  const blocker: { reason: string | undefined } = { reason: undefined };
  const matcher = new RouteMatcher(routes);
  const gatewayHandler = createGatewayHandler({
    config,
    matcher: () => matcher,
    broker: new RequestBroker(publisher, registry, metrics, log),
    registry,
    metrics,
    log,
    admissionBlocker: () => blocker.reason,
    ...(options.stages ? { stages: options.stages } : {}),
    ...(options.idempotency ? { idempotency: new RedisIdempotencyStore(fakeIdempotencyRedis(), 'rg:', 60_000) } : {}),
  });
  const app = createApp({ readiness, metrics, log, gatewayHandler });
  return { app, publisher, registry, readiness, metrics, store, config, blocker };
}
