/** One reply the relay wants stored. */
export interface ReplyWrite {
  correlationId: string;
  /** Encoded envelope bytes (see `encodeEnvelope`). */
  value: Buffer;
}

/**
 * Where replies wait between the relay and the originating replica. The Redis implementation is
 * {@link RedisReplyStore}; a Redis Cluster or in-memory variant is one new class behind this.
 */
export interface ReplyStore {
  /**
   * Store replies, first writer wins (`SET NX`), each with the reply TTL. Resolves only once the
   * store acknowledged every write, with `true` for each reply stored and `false` for a duplicate.
   */
  writeReplies(writes: readonly ReplyWrite[]): Promise<boolean[]>;
  /** Read one stored reply, or `null` when there is none (not yet, or evicted). */
  readReply(correlationId: string): Promise<Buffer | null>;
  /** Read several stored replies at once, `null` where missing. */
  readReplies(correlationIds: readonly string[]): Promise<(Buffer | null)[]>;
  /** The store key of a reply, for diagnostics and tests. */
  keyOf(correlationId: string): string;
}
