import type { Kafka, PartitionAssigner } from 'kafkajs';
import type { RouteDefinition } from '../config/routes-file';
import type { EventRelayStore } from '../exchange/event-interest-store';
import type { ReplyStore } from '../exchange/reply-store';
import type { EventMetrics } from '../observability/event-metrics';
import type { GatewayMetrics } from '../observability/gateway-metrics';
import type { Logger } from '../observability/logger';
import { waiterLifetimeMs } from '../protocol/event-await';
import type { EventRule } from './event-decoder';
import { EventRelay } from './event-relay';

/** Settings of an {@link EventRelayHost}. */
export interface EventRelayHostOptions {
  kafka: Kafka;
  store: EventRelayStore;
  replies: ReplyStore;
  /** The routes in force (swapped by reloads). */
  routes: () => readonly RouteDefinition[];
  /** This relay's event group (`REPLYGATE_EVENT_GROUP`, `-<n>` for relay group n). */
  groupId: string;
  /** With several relay groups: the striped assigners of this relay's group (as the reply relay's). */
  partitionAssigners?: PartitionAssigner[] | undefined;
  maxEventBytes: number;
  sessionTimeoutMs: number;
  metrics: EventMetrics;
  gatewayMetrics: GatewayMetrics;
  log: Logger;
  /** How often a reload's new set of event topics is looked for. @defaultValue 1000 */
  checkIntervalMs?: number;
}

/**
 * How long after a Redis restart the event relay waits before its re-read: every replica must see
 * the restart and register its waiters again first, and a replica's reconnect may lag the relay's
 * by the reconnect backoff cap (2 s, `redis-connections.ts`). Events handled meanwhile are inside
 * the re-read range, so the wait costs a blocking read answered by the re-read latency, not answers.
 */
export const EVENT_REWIND_DELAY_MS = 5_000;

/** A command route's waiters live for the route's timeout; a little slack for a relay behind. */
const COMMAND_HORIZON_SLACK_MS = 5_000;

/** The event rules of a set of routes. */
export function eventRules(routes: readonly RouteDefinition[]): EventRule[] {
  return routes.flatMap((r) =>
    r.await === undefined
      ? []
      : [
          {
            route: r.name,
            await: r.await,
            horizonMs: r.await.command ? waiterLifetimeMs(r) + COMMAND_HORIZON_SLACK_MS : r.await.stateTtlMs,
          },
        ],
  );
}

/**
 * Runs the {@link EventRelay} for the event topics of the routes in force. Match rules are read at
 * every batch, so a reload that changes them applies at once; one that changes the set of topics
 * replaces the relay (kafkajs cannot change a running consumer's subscription).
 */
export class EventRelayHost {
  private relay: EventRelay | undefined;
  private topicsKey = '';
  private timer: NodeJS.Timeout | undefined;
  private lastRoutes: readonly RouteDefinition[] | undefined;
  private lastRules: EventRule[] = [];
  private switching: Promise<void> = Promise.resolve();
  private stopped = false;
  private rewindTimer: NodeJS.Timeout | undefined;
  private rewindWaiting: (() => void) | undefined;

  constructor(private readonly options: EventRelayHostOptions) {}

  /** Ready when no route awaits events, or the relay has joined its group. */
  get ready(): boolean {
    return this.relay?.ready ?? true;
  }

  get downForMs(): number {
    return this.relay?.downForMs ?? 0;
  }

  /** Start reading (when some route awaits events) and watch for reloads. */
  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => {
      this.switching = this.switching
        .then(() => this.sync())
        .catch((err: unknown) => {
          this.options.log.error({ err }, 'event relay could not follow the routes reload');
        });
    }, this.options.checkIntervalMs ?? 1000);
    this.timer.unref();
  }

  /**
   * Redis lost its data: after {@link EVENT_REWIND_DELAY_MS} (or `delayMs`), re-read the event
   * topics (see `EventRelay.rewind`). A second restart before the first re-read starts moves it.
   */
  rewind(delayMs = EVENT_REWIND_DELAY_MS): Promise<void> {
    clearTimeout(this.rewindTimer);
    this.rewindWaiting?.();
    return new Promise<void>((resolve, reject) => {
      this.rewindWaiting = resolve;
      this.rewindTimer = setTimeout(() => {
        this.rewindTimer = undefined;
        this.rewindWaiting = undefined;
        if (this.stopped || this.relay === undefined) return resolve();
        this.relay.rewind().then(resolve, reject);
      }, delayMs);
      this.rewindTimer.unref();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.rewindTimer);
    this.rewindWaiting?.();
    clearInterval(this.timer);
    await this.switching;
    await this.relay?.stop();
    this.relay = undefined;
  }

  private rules(): EventRule[] {
    const routes = this.options.routes();
    if (routes !== this.lastRoutes) {
      this.lastRoutes = routes;
      this.lastRules = eventRules(routes);
    }
    return this.lastRules;
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const topics = [...new Set(this.rules().map((r) => r.await.topic))].sort();
    const key = topics.join(',');
    if (key === this.topicsKey) return;
    const { log } = this.options;
    const previous = this.relay;
    this.relay = undefined;
    await previous?.stop();
    this.topicsKey = key;
    if (topics.length === 0) return;
    const relay = new EventRelay(
      this.options.kafka,
      this.options.store,
      this.options.replies,
      {
        groupId: this.options.groupId,
        partitionAssigners: this.options.partitionAssigners,
        topics,
        rules: () => this.rules(),
        maxEventBytes: this.options.maxEventBytes,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
      },
      this.options.metrics,
      this.options.gatewayMetrics,
      log,
    );
    this.relay = relay;
    log.info({ topics, groupId: this.options.groupId }, 'event relay reading awaited topics');
    await relay.start();
  }
}
