import type { ReplyNotifier } from '../exchange/reply-notifier';
import { LocalWakeReplyStore } from '../exchange/local-wake-store';
import { HttpRole, type NotifierParts } from './http-role';
import { RelayRole } from './relay-role';
import type { ReplicaContext } from './replica-context';

/** The roles one replica plays. */
export interface Roles {
  http?: HttpRole;
  relay?: RelayRole;
}

/**
 * The roles for REPLYGATE_ROLE: `http`, `relay`, or `all`, which is both in one process, with the
 * relay waking this replica's own requests in-process after its write (unless `localWake` is
 * false), requests naming a reply partition that relay reads (REPLYGATE_REPLY_PARTITION_HINT) and
 * admission waiting for its own relay. The only place that knows `all` means both.
 */
export function createRoles(
  ctx: ReplicaContext,
  options: { createNotifier?: (parts: NotifierParts) => ReplyNotifier; localWake?: boolean },
): Roles {
  const { role } = ctx.config;
  if (role === 'http') return { http: new HttpRole(ctx, { createNotifier: options.createNotifier }) };
  if (role === 'relay') return { relay: new RelayRole(ctx, ctx.store) };
  // Role `all`: replies for this replica's own requests wake them in-process after the write.
  const localWake =
    options.localWake !== false
      ? new LocalWakeReplyStore(ctx.store, ctx.registry, (n) => ctx.metrics.repliesWokenLocally.inc(n))
      : undefined;
  const roles: Roles = {};
  // Requests name a reply partition this replica's relay reads, so their replies wake them
  // in-process; only worth it when the relay wakes them (local wake on).
  const hint = localWake !== undefined && ctx.config.replyPartitionHint;
  roles.http = new HttpRole(ctx, {
    createNotifier: options.createNotifier,
    localWake,
    relayReady: () => roles.relay?.ready ?? false,
    ...(hint ? { replyPartition: { next: () => roles.relay?.relay.owned.next() } } : {}),
  });
  roles.relay = new RelayRole(ctx, localWake ?? ctx.store);
  return roles;
}
