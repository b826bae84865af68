import type { PendingRegistry } from './pending-registry';
import type { ReplyStore, ReplyWrite } from './reply-store';

/**
 * Bound on remembered local wakes whose keyspace notification has not come back yet (it can also
 * arrive first, when the id stays here until the next clear; clearing only miscounts late replies).
 */
const MAX_REMEMBERED = 10_000;

/**
 * The reply store as a replica that both relays and serves (role `all`) hands it to its relay:
 * once Redis has acknowledged a write (`SET NX` answered OK, so the stored reply is exactly this
 * one, with its TTL, for async readers and other replicas), a reply for a request parked in this
 * same process is delivered to it directly. That saves the keyspace-notification hop and the `GET`
 * that would follow. The notification still arrives; {@link consumeLocalWake} says to ignore it
 * once, so it is not counted as a late reply. Duplicates (`NX` refused) are never delivered: the
 * first stored reply wins, as everywhere else.
 */
export class LocalWakeReplyStore implements ReplyStore {
  private readonly woken = new Set<string>();

  /** @param onWoken called with how many replies of a write were delivered in-process. */
  constructor(
    private readonly inner: ReplyStore,
    private readonly registry: PendingRegistry,
    private readonly onWoken: (count: number) => void = () => undefined,
  ) {}

  async writeReplies(writes: readonly ReplyWrite[]): Promise<boolean[]> {
    const stored = await this.inner.writeReplies(writes);
    let woken = 0;
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i] as ReplyWrite;
      if (stored[i] === true && this.registry.deliver(w.correlationId, w.value)) {
        if (this.woken.size >= MAX_REMEMBERED) this.woken.clear();
        this.woken.add(w.correlationId);
        woken++;
      }
    }
    if (woken > 0) this.onWoken(woken);
    return stored;
  }

  /** Whether the notification for `correlationId` only echoes a local wake (true once per wake). */
  consumeLocalWake(correlationId: string): boolean {
    return this.woken.delete(correlationId);
  }

  readReply(correlationId: string): Promise<Buffer | null> {
    return this.inner.readReply(correlationId);
  }

  readReplies(correlationIds: readonly string[]): Promise<(Buffer | null)[]> {
    return this.inner.readReplies(correlationIds);
  }

  keyOf(correlationId: string): string {
    return this.inner.keyOf(correlationId);
  }
}
