import type { GatewayConfig } from './gateway-config';

/** The settings that name the relay groups. */
export type RelayGroupSettings = Pick<GatewayConfig, 'relayGroupId' | 'relayGroups' | 'relayGroupIndex'>;

/**
 * The consumer group of relay group `index`: `REPLYGATE_RELAY_GROUP` itself for 0 (so a deployment
 * that turns redundancy on keeps its group and its committed offsets), `<REPLYGATE_RELAY_GROUP>-<n>`
 * for the others.
 *
 * @example
 * relayGroupName('replygate-relay', 1); // 'replygate-relay-1'
 */
export function relayGroupName(base: string, index: number): string {
  return index === 0 ? base : `${base}-${index}`;
}

/** Every relay group of the deployment, in index order (`REPLYGATE_RELAY_GROUPS` names). */
export function relayGroupIds(settings: RelayGroupSettings): string[] {
  return Array.from({ length: settings.relayGroups }, (_, i) => relayGroupName(settings.relayGroupId, i));
}

/** The group this relay joins (`REPLYGATE_RELAY_GROUP_INDEX`). */
export function ownRelayGroup(settings: RelayGroupSettings): string {
  return relayGroupName(settings.relayGroupId, settings.relayGroupIndex);
}

/** The other groups, which write the same replies: this relay skips what they have committed. */
export function siblingRelayGroups(settings: RelayGroupSettings): string[] {
  return relayGroupIds(settings).filter((_, i) => i !== settings.relayGroupIndex);
}
