import { ownRelayGroup, relayGroupName, siblingRelayGroups } from '../config/relay-groups';
import type { ReplyStore } from '../exchange/reply-store';
import { EventMetrics } from '../observability/event-metrics';
import { EventRelayHost } from '../relay/event-relay-host';
import { ReplyRelay } from '../relay/reply-relay';
import { RedisEventInterestStore } from '../redis/redis-event-interest-store';
import { relayAssigners } from '../relay/striped-assigner';
import { CallbackHookStore } from '../webhooks/callback-hook-store';
import { WebhookService } from '../webhooks/webhook-service';
import type { ReplicaContext } from './replica-context';

/**
 * The `relay` role: consumes the reply topic into Redis (the store's write is the wake-up), and
 * delivers callbacks (BullMQ) when routes configure them. It joins relay group
 * REPLYGATE_RELAY_GROUP_INDEX of REPLYGATE_RELAY_GROUPS.
 */
export class RelayRole {
  readonly relay: ReplyRelay;
  /** Callback delivery, when some route configures callbacks. */
  readonly webhooks: WebhookService | undefined;
  /** Reads the event topics of routes with `await` (its own group, REPLYGATE_EVENT_GROUP). */
  readonly events: EventRelayHost;

  /** @param store where replies are written: the Redis store, or role `all`'s local-wake wrapper. */
  constructor(
    private readonly ctx: ReplicaContext,
    store: ReplyStore,
  ) {
    const { config, log, readiness, liveness, metrics } = ctx;
    if (ctx.routes?.some((r) => r.callbacks !== undefined) === true) {
      this.webhooks = new WebhookService({
        redis: ctx.redisConnections,
        keyPrefix: config.keyPrefix,
        instanceId: config.instanceId,
        hooks: callbackHooks(ctx),
        secretOf: (name) => ctx.routeTable?.routes.find((r) => r.name === name)?.callbacks?.secret,
        concurrency: config.webhookConcurrency,
        timeoutMs: config.webhookTimeoutMs,
        retentionSec: config.webhookRetentionSec,
        evictionCheck: config.webhookEvictionCheck,
        replyDecoder: ctx.replyDecoder,
        log,
      });
      const webhooks = this.webhooks;
      readiness.add({ name: 'webhooks', ready: () => webhooks.ready });
    }
    this.relay = new ReplyRelay(
      ctx.kafka,
      store,
      {
        replyTopic: config.replyTopic,
        groupId: ownRelayGroup(config),
        siblingGroupIds: siblingRelayGroups(config),
        // Redundant groups split the partitions differently, so two relays dying at once (one in
        // each group) leave as few partitions unread as possible.
        partitionAssigners: config.relayGroups > 1 ? relayAssigners(config.relayGroupIndex) : undefined,
        maxReplyBytes: config.maxReplyBytes,
        sessionTimeoutMs: config.relaySessionTimeoutMs,
        commitIntervalMs: config.relayCommitIntervalMs,
        afterWrite: this.webhooks?.afterWrite,
      },
      metrics,
      log.child({ component: 'relay' }),
    );
    const relay = this.relay;
    readiness.add({ name: 'relay', ready: () => relay.ready });
    this.events = new EventRelayHost({
      kafka: ctx.kafka,
      store: new RedisEventInterestStore(ctx.redis, config.keyPrefix, store),
      replies: store,
      routes: () => ctx.routeTable?.routes ?? [],
      // Redundant relay groups (REPLYGATE_RELAY_GROUPS) read the event topics in as many event
      // groups: a relay's death then costs no waiter its event (answers are SET NX, kept states
      // never go back), as for replies.
      groupId: relayGroupName(config.eventGroupId, config.relayGroupIndex),
      partitionAssigners: config.relayGroups > 1 ? relayAssigners(config.relayGroupIndex) : undefined,
      maxEventBytes: config.maxReplyBytes,
      sessionTimeoutMs: config.relaySessionTimeoutMs,
      metrics: new EventMetrics(metrics.registry),
      gatewayMetrics: metrics,
      log: log.child({ component: 'event-relay' }),
    });
    const events = this.events;
    readiness.add({ name: 'events', ready: () => events.ready });
    liveness.add({ name: 'events', downForMs: () => (ctx.lifecycle.started ? events.downForMs : 0) });
    liveness.add({ name: 'relay', downForMs: () => (ctx.lifecycle.started ? relay.downForMs : 0) });
  }

  get ready(): boolean {
    return this.relay.ready;
  }

  /** Webhooks first: the relay's first batch may already carry replies with callbacks. */
  async start(): Promise<void> {
    await this.webhooks?.start();
    await this.relay.start();
    await this.events.start();
  }

  /**
   * Redis restarted without its data: re-read the last REPLYGATE_REPLY_TTL_MS of the reply topic
   * now, and the event topics a few seconds later, once replicas registered their waiters again.
   */
  async rewind(): Promise<void> {
    await Promise.all([this.relay.rewind(this.ctx.kafka, this.ctx.config.replyTtlMs), this.events.rewind()]);
  }

  async stop(): Promise<void> {
    await this.events.stop().catch((err: unknown) => this.ctx.log.warn({ err }, 'event relay stop failed'));
    await this.relay.stop().catch((err: unknown) => this.ctx.log.warn({ err }, 'relay stop failed'));
    await this.webhooks?.stop();
  }
}

/** Webhook hooks live as long as the async record they belong to. */
export function callbackHooks(ctx: ReplicaContext): CallbackHookStore {
  return new CallbackHookStore(ctx.redis, ctx.config.keyPrefix, ctx.recordTtlMs);
}
