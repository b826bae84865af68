/** Callbacks a {@link ReplyNotifier} drives. */
export interface ReplyNotifierHandlers {
  /** A reply for one of this replica's correlation ids has been stored. */
  onReplyStored(correlationId: string): void;
  /**
   * The notification channel was re-established after a gap: notifications sent meanwhile are lost,
   * so the owner must re-read every reply it is still waiting for.
   */
  onResync(): void;
}

/**
 * Wakes the originating replica when a reply for one of its correlation ids lands in the store.
 * Delivery may be lost during a disconnect; {@link ReplyNotifierHandlers.onResync} covers that.
 */
export interface ReplyNotifier {
  /** Subscribe for this instance's replies; resolves once the subscription is acknowledged. */
  start(instanceId: string, handlers: ReplyNotifierHandlers): Promise<void>;
  /**
   * Also wake for one correlation id of another replica (an idempotent retry waiting for the
   * first attempt's reply). Resolves once subscribed. Watches are counted; see {@link unwatch}.
   */
  watch(correlationId: string): Promise<void>;
  /** Drop one watch taken with {@link watch}. */
  unwatch(correlationId: string): void;
  /** Whether the subscription is currently live. */
  readonly live: boolean;
  close(): Promise<void>;
}
