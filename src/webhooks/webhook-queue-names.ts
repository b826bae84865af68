import { ReplyKeys } from '../protocol/reply-keys';
/** The BullMQ queue that holds callback deliveries. */
export const WEBHOOK_QUEUE = 'webhooks';

/**
 * BullMQ's key prefix for a gateway key prefix: `<prefix without trailing colons>-bull` (`rg:` →
 * `rg-bull`). Outside `<prefix>` on purpose: BullMQ keeps a few permanent keys (`:meta`, `:id`,
 * `:events`, bounded) that would otherwise break the rule that every `<prefix>*` key expires.
 * On a Redis Cluster it is hash-tagged (`{rg-bull}`): see `ReplyKeys.bullPrefix`.
 */
export function bullPrefix(keyPrefix: string, cluster = false): string {
  return new ReplyKeys(keyPrefix).bullPrefix(cluster);
}
