import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric the gateway exports, on a registry of its own (so several gateways in
 * one process, as in tests, do not collide). Names follow `replygate_<what>_<unit>`.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** HTTP requests answered, by route and status. */
  readonly requests = new Counter({
    name: 'replygate_requests_total',
    help: 'HTTP requests answered, by route name and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });

  /**
   * Requests refused before any route saw them, by reason: `timeout` (headers or body too slow,
   * 408), `malformed` (400), `headers_too_large` (431).
   */
  readonly clientErrors = new Counter({
    name: 'replygate_client_errors_total',
    help: 'Requests refused by the HTTP server for how the client sent them (slow, malformed, oversized headers), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Reply headers a service set that the gateway dropped (they belong to the gateway), by header family. */
  readonly replyHeadersDropped = new Counter({
    name: 'replygate_reply_headers_dropped_total',
    help: 'Response headers in service replies dropped because only the gateway may set them, by header family',
    labelNames: ['family'] as const,
    registers: [this.registry],
  });

  /** Time from publishing a request to having its reply in hand. */
  readonly replyLatency = new Histogram({
    name: 'replygate_reply_latency_seconds',
    help: 'Time from accepting a request to reading its reply from Redis',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** Requests parked on this replica now. */
  readonly pending = new Gauge({
    name: 'replygate_pending_requests',
    help: 'Requests parked on this replica waiting for a reply',
    registers: [this.registry],
  });

  /** The configured bound on parked requests. */
  readonly pendingLimit = new Gauge({
    name: 'replygate_pending_requests_limit',
    help: 'REPLYGATE_MAX_PENDING: parked requests allowed on this replica',
    registers: [this.registry],
  });

  /** Long-polls and SSE streams on `/v1/replies` waiting on this replica now (bounded apart from requests). */
  readonly watchers = new Gauge({
    name: 'replygate_reply_watchers',
    help: 'Long-polls and event streams on /v1/replies waiting on this replica (REPLYGATE_MAX_WATCHERS), not counted as pending requests',
    registers: [this.registry],
  });

  /** Requests answered 504. */
  readonly timeouts = new Counter({
    name: 'replygate_timeouts_total',
    help: 'Requests that got no reply before their deadline (504)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  /** Replies whose request was no longer parked here: the timeout was too tight or the client left. */
  readonly lateReplies = new Counter({
    name: 'replygate_late_replies_total',
    help: 'Replies for this replica that arrived after their request ended',
    registers: [this.registry],
  });

  /** Requests that could not be published to Kafka. */
  readonly publishErrors = new Counter({
    name: 'replygate_publish_errors_total',
    help: 'Requests that could not be published to Kafka (503)',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  /** 1 while an in-process component (the relay's consumer) works, 0 while it is down or recovering. */
  readonly componentUp = new Gauge({
    name: 'replygate_component_up',
    help: 'Whether an in-process component works now (1) or is down and recovering (0), by component',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });

  /** Consumers rebuilt after a crash kafkajs would not recover from by itself. */
  readonly consumerRestarts = new Counter({
    name: 'replygate_consumer_restarts_total',
    help: 'Kafka consumers rebuilt after a crash, by component',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });

  /**
   * Consumer group joins, by component: the first join, then one per rebalance (a member came or
   * went, or kafkajs rejoined after an error). A rolling broker restart should add none (see
   * kafka/group-recovery); a rise without a deployment is worth a look.
   */
  readonly consumerGroupJoins = new Counter({
    name: 'replygate_consumer_group_joins_total',
    help: 'Kafka consumer group joins (the first, then one per rebalance), by component',
    labelNames: ['component'] as const,
    registers: [this.registry],
  });

  /**
   * Replies the relay wrote to Redis, by result (`stored` first write, `duplicate` absorbed by NX
   * or already committed by another relay group, `rewound` written again by the re-read after a
   * Redis restart). Summed over every relay of every group, `stored` counts each reply once.
   */
  readonly relayWrites = new Counter({
    name: 'replygate_relay_writes_total',
    help: 'Replies moved from Kafka to Redis by this relay, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  /**
   * Role `all`: stored replies the relay handed straight to a request parked in its own process
   * (no keyspace notification, no `GET`). Against `stored`, how well the reply-partition hint works.
   */
  readonly repliesWokenLocally = new Counter({
    name: 'replygate_replies_woken_locally_total',
    help: 'Replies this replica relayed to requests parked in its own process (role all)',
    registers: [this.registry],
  });

  /** Fetch responses the relay's consumer received (what a relay group costs the brokers). */
  readonly relayFetches = new Counter({
    name: 'replygate_relay_fetches_total',
    help: 'Kafka fetch responses received by this relay',
    registers: [this.registry],
  });

  /** Bytes of reply messages the relay read (keys, values and headers). */
  readonly relayReadBytes = new Counter({
    name: 'replygate_relay_read_bytes_total',
    help: 'Bytes of reply messages (key, value, headers) read by this relay',
    registers: [this.registry],
  });

  /** Replies the relay skipped as unusable. */
  readonly relayPoison = new Counter({
    name: 'replygate_relay_poison_total',
    help: 'Messages on the reply topic skipped as unusable, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** Idempotent retries answered with the first attempt's reply instead of publishing again. */
  readonly idempotentReplays = new Counter({
    name: 'replygate_idempotent_replays_total',
    help: 'Requests with a known Idempotency-Key that followed the first attempt instead of publishing',
    registers: [this.registry],
  });

  /** Stored replies this replica could not read or decode. */
  readonly replyErrors = new Counter({
    name: 'replygate_reply_errors_total',
    help: 'Replies that were malformed (502) or could not be read from Redis',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /**
   * Replies stored after their request had ended here, so nobody will read them before
   * REPLYGATE_REPLY_TTL_MS evicts them; by why the request ended (`timeout`: the timeout is too
   * tight; `client-closed`: clients gave up; `unknown`: ended too long ago or before a restart).
   */
  readonly repliesUnread = new Counter({
    name: 'replygate_replies_unread_total',
    help: 'Replies stored after their request ended (evicted unread by the reply TTL), by why it ended',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  /** How long after its request ended a late reply arrived: how much longer the timeout would need to be. */
  readonly lateReplyDelay = new Histogram({
    name: 'replygate_late_reply_delay_seconds',
    help: 'Time from a request ending without its reply to the reply being stored',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  /** Relay group lag on the reply topic, per partition (high watermark minus committed offset). */
  readonly relayLag = new Gauge({
    name: 'replygate_relay_lag_messages',
    help: 'Replies on the reply topic not yet committed by a relay group, by group and partition',
    labelNames: ['group', 'partition'] as const,
    registers: [this.registry],
  });

  /** 1 while Redis keyspace notifications reach this replica, 0 once the canary or the setting says they do not. */
  readonly notificationsFlowing = new Gauge({
    name: 'replygate_keyspace_notifications_flowing',
    help: 'Whether Redis keyspace notifications reach this replica (1) or were found lost (0); http and all roles',
    registers: [this.registry],
  });

  /** Route table reloads (SIGHUP, file change, POST /admin/reload), by result. */
  readonly routeReloads = new Counter({
    name: 'replygate_route_reloads_total',
    help: 'Routes file reloads, by result (ok, or refused: the old routes stay)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'replygate_' });
  }
}
