import type { Cluster, Redis } from 'ioredis';
import type { ReplyNotifier, ReplyNotifierHandlers } from '../exchange/reply-notifier';
import type { Logger } from '../observability/logger';
import { clusterMasters, slotMapSignature } from './cluster-topology';
import { connectWithin, type RedisConnections } from './redis-connections';
import { RedisKeyspaceNotifier } from './redis-keyspace-notifier';

/** Settings and collaborators of a {@link ClusterKeyspaceNotifier}. */
export interface ClusterKeyspaceNotifierOptions {
  /** The command connection; its slot map (refreshed on MOVED, errors and a timer) is followed. */
  cluster: Cluster;
  connections: RedisConnections;
  keyPrefix: string;
  /** How long a new master's subscriber may take to connect before the attempt is retried later (the start-up timeout). */
  connectTimeoutMs: () => number;
  /** Called for a master seen for the first time, before it is subscribed (the notifications check). */
  onNewMaster?: (address: string) => Promise<void>;
  log: Logger;
}

interface NodeWake {
  subscriber: Redis;
  notifier: RedisKeyspaceNotifier;
}

/**
 * The keyspace wake on a Redis Cluster. A notification is published only by the node that holds
 * the key, and ioredis' cluster `psubscribe` listens on one node (ioredis #1240), so this opens
 * one subscriber connection per master, each with this replica's one pattern (a
 * {@link RedisKeyspaceNotifier} per master, which re-subscribes and resyncs after its own
 * reconnects). It follows the cluster's slot map: on every refresh (ioredis re-reads it after a
 * MOVED, an error and every `CLUSTER_SLOTS_REFRESH_MS`) a new master is subscribed, a gone one
 * dropped, and when the masters or the slot map changed, every pending reply is re-read: a reply
 * stored during the change may have been notified where nobody listened yet.
 */
export class ClusterKeyspaceNotifier implements ReplyNotifier {
  private readonly nodes = new Map<string, NodeWake>();
  /** The masters of the last slot map read. */
  private masters: string[] = [];
  private signature = '';
  private handlers: ReplyNotifierHandlers | undefined;
  private instanceId = '';
  private readonly watched = new Map<string, number>();
  private reconciling: Promise<void> | undefined;
  private again = false;
  private closing = false;
  private readonly onRefresh = (): void => void this.reconcile();

  constructor(private readonly options: ClusterKeyspaceNotifierOptions) {}

  /**
   * Every master that is up has this replica's subscription. A master that is down holds no
   * reachable replies either; requests whose replies it owns wait for the failover, after which
   * the promoted replica is subscribed and the pending replies re-read.
   */
  get live(): boolean {
    if (this.masters.length === 0) return false;
    const all = this.options.cluster.nodes('all');
    return this.masters.every((address) => {
      if (this.nodes.get(address)?.notifier.live === true) return true;
      const node = all.find((n) => `${n.options.host}:${n.options.port}` === address);
      return node === undefined || node.status !== 'ready';
    });
  }

  /** The masters subscribed now (`host:port`). */
  get subscribedMasters(): string[] {
    return [...this.nodes.entries()].filter(([, n]) => n.notifier.live).map(([address]) => address);
  }

  async start(instanceId: string, handlers: ReplyNotifierHandlers): Promise<void> {
    this.instanceId = instanceId;
    this.handlers = handlers;
    await this.sync(true);
    const missing = this.masters.filter((m) => !this.nodes.has(m));
    if (missing.length > 0) throw new Error(`could not subscribe on cluster masters ${missing.join(', ')}`);
    this.options.cluster.on('refresh', this.onRefresh);
  }

  /** Re-read the slot map now (also runs on every refresh of the cluster client). */
  reconcile(): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (this.reconciling !== undefined) {
      this.again = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      try {
        do {
          this.again = false;
          await this.sync(false);
        } while (this.again && !this.closing);
      } catch (err) {
        this.options.log.error({ err }, 'following the cluster topology failed; retrying on the next refresh');
      } finally {
        this.reconciling = undefined;
      }
    })();
    return this.reconciling;
  }

  private async sync(initial: boolean): Promise<void> {
    const { cluster, log } = this.options;
    const masters = clusterMasters(cluster);
    const signature = slotMapSignature(cluster);
    const added: string[] = [];
    const removed: string[] = [];
    for (const [address, node] of this.nodes) {
      if (masters.includes(address)) continue;
      this.nodes.delete(address);
      removed.push(address);
      await node.notifier.close();
    }
    this.masters = masters;
    await Promise.all(
      masters
        .filter((address) => !this.nodes.has(address))
        .map(async (address) => {
          try {
            await this.subscribeOn(address);
            added.push(address);
          } catch (err) {
            if (initial) throw err;
            log.warn(
              { err, master: address },
              'could not subscribe on a cluster master yet; retrying on the next refresh',
            );
          }
        }),
    );
    const changed = signature !== this.signature;
    this.signature = signature;
    if (initial) {
      log.info({ masters }, 'keyspace subscription on every cluster master');
      return;
    }
    if (added.length > 0 || removed.length > 0 || changed) {
      log.info(
        { added, removed, masters, slotsMoved: changed },
        'cluster topology changed; resyncing pending requests',
      );
      this.handlers?.onResync();
    }
  }

  private async subscribeOn(address: string): Promise<void> {
    const { connections, keyPrefix, log, connectTimeoutMs, onNewMaster } = this.options;
    const colon = address.lastIndexOf(':');
    const node = { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
    await onNewMaster?.(address);
    const subscriber = connections.nodeSubscriber(node, `replygate:${this.instanceId}:sub:${address}`);
    const nodeLog = log.child({ master: address });
    subscriber.on('error', (err) => nodeLog.debug({ err }, 'redis subscriber error'));
    try {
      await connectWithin(subscriber, connectTimeoutMs(), connections.target, nodeLog, address);
      const notifier = new RedisKeyspaceNotifier(subscriber, keyPrefix, nodeLog);
      await notifier.start(this.instanceId, {
        onReplyStored: (id) => this.handlers?.onReplyStored(id),
        onResync: () => this.handlers?.onResync(),
      });
      for (const id of this.watched.keys()) await notifier.watch(id);
      if (this.closing) {
        await notifier.close();
        return;
      }
      this.nodes.set(address, { subscriber, notifier });
    } catch (err) {
      subscriber.disconnect();
      throw err;
    }
  }

  async watch(correlationId: string): Promise<void> {
    const count = this.watched.get(correlationId) ?? 0;
    this.watched.set(correlationId, count + 1);
    // The key's slot may move (resharding, failover): the exact channel is watched on every master.
    await Promise.all([...this.nodes.values()].map((n) => n.notifier.watch(correlationId)));
  }

  unwatch(correlationId: string): void {
    const count = this.watched.get(correlationId) ?? 0;
    if (count > 1) this.watched.set(correlationId, count - 1);
    else this.watched.delete(correlationId);
    for (const n of this.nodes.values()) n.notifier.unwatch(correlationId);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.options.cluster.off('refresh', this.onRefresh);
    await this.reconciling;
    await Promise.all([...this.nodes.values()].map((n) => n.notifier.close()));
    this.nodes.clear();
  }
}
