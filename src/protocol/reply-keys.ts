/**
 * Every Redis key shape the gateway writes, in one place (in the manner of BullMQ's `QueueKeys`):
 * a prefix change or a cluster hash tag is one edit here.
 *
 * Stored reply ids: the relay stores a whole reply under its correlation id, a streamed part under
 * `<id>#<seq>` and one reply of a scatter-gather under `<id>#g<partition>-<offset>`; the keyspace
 * notification carries the stored id, and {@link parseStoredId} tells the three apart.
 */

/** What a stored reply id names. */
export type StoredReplyId =
  | { kind: 'reply'; correlationId: string }
  | { kind: 'part'; correlationId: string; seq: number }
  | { kind: 'gathered'; correlationId: string; suffix: string };

/** The stored id of part `seq` of a streamed reply: `<id>#<seq>`. */
export function partId(correlationId: string, seq: number): string {
  return `${correlationId}#${seq}`;
}

/** The stored id of one reply of a scatter-gather: `<id>#g<partition>-<offset>`. */
export function gatheredId(correlationId: string, partition: number, offset: string): string {
  return storedIdOf(correlationId, `g${partition}-${offset}`);
}

/** The stored id for `correlationId` and a suffix announced by a notification (`g0-12`, `3`). */
export function storedIdOf(correlationId: string, suffix: string): string {
  return `${correlationId}#${suffix}`;
}

/**
 * Tell a whole reply, a streamed part and a gathered reply apart by the stored id.
 *
 * @example
 * parseStoredId('abc#3');     // { kind: 'part', correlationId: 'abc', seq: 3 }
 * parseStoredId('abc#g0-12'); // { kind: 'gathered', correlationId: 'abc', suffix: 'g0-12' }
 * parseStoredId('abc');       // { kind: 'reply', correlationId: 'abc' }
 */
export function parseStoredId(stored: string): StoredReplyId {
  const hash = stored.indexOf('#');
  if (hash <= 0) return { kind: 'reply', correlationId: stored };
  const correlationId = stored.slice(0, hash);
  const suffix = stored.slice(hash + 1);
  return suffix.startsWith('g')
    ? { kind: 'gathered', correlationId, suffix }
    : { kind: 'part', correlationId, seq: Number(suffix) };
}

const GLOB_CHARS = /[*?[\]\\]/g;

/** Escape `text` for a Redis glob pattern (PSUBSCRIBE). */
function globEscape(text: string): string {
  return text.replace(GLOB_CHARS, '\\$&');
}

/** The Redis keys of one gateway key prefix (`REPLYGATE_KEY_PREFIX`). */
export class ReplyKeys {
  constructor(readonly prefix: string) {}

  /** A stored reply: `<prefix>reply:<storedId>`. */
  reply(storedId: string): string {
    return `${this.prefix}reply:${storedId}`;
  }

  /** The keyspace channel of every reply key in database `db`, up to the stored id. */
  keyspaceChannelPrefix(db: number): string {
    return `__keyspace@${db}__:${this.reply('')}`;
  }

  /** The PSUBSCRIBE pattern for the replies of one replica (its ids start with `<instanceId>.`). */
  keyspacePattern(db: number, instanceId: string): string {
    return `${globEscape(this.keyspaceChannelPrefix(db))}${globEscape(instanceId)}.*`;
  }

  /** An idempotency record: `<prefix>idem:<hash>`. */
  idempotency(hash: string): string {
    return `${this.prefix}idem:${hash}`;
  }

  /** A fetchable (async) reply's record: `<prefix>async:<correlationId>`. */
  asyncRecord(correlationId: string): string {
    return `${this.prefix}async:${correlationId}`;
  }

  /** A callback hook: `<prefix>hook:<correlationId>`. */
  hook(correlationId: string): string {
    return `${this.prefix}hook:${correlationId}`;
  }

  /**
   * The waiters on one entity of an event route (issue 15): a sorted set of
   * `<correlationId> <since>` scored by expiry. Hash-tagged with its state key, so the
   * registration script touches one cluster slot.
   */
  awaitWaiters(routeName: string, entity: string): string {
    return `${this.prefix}await:{${encodeURIComponent(routeName)}:${entity}}:w`;
  }

  /** Per-waiter part counters of a streamed event route (hash: correlation id → parts written). */
  awaitSeqs(routeName: string, entity: string): string {
    return `${this.prefix}await:{${encodeURIComponent(routeName)}:${entity}}:n`;
  }

  /**
   * The latest event of one entity of a blocking-read or `fromReply` route (flag byte, event
   * timestamp, envelope: see `encodeStateRecord`), with a TTL.
   */
  awaitState(routeName: string, entity: string): string {
    return `${this.prefix}await:{${encodeURIComponent(routeName)}:${entity}}:s`;
  }

  /** The rate-limit key prefix of a route: `<prefix>ratelimit:<route>` (the library adds the caller). */
  rateLimit(routeName: string): string {
    return `${this.prefix}ratelimit:${encodeURIComponent(routeName)}`;
  }

  /**
   * BullMQ's key prefix: `<prefix without trailing colons>-bull` (`rg:` → `rg-bull`), outside
   * `<prefix>` on purpose (see webhooks/webhook-queue-names.ts).
   *
   * On a Redis Cluster (`cluster`) it is a hash tag, `{rg-bull}`: BullMQ's Lua scripts touch
   * several keys of a queue at once, which a cluster allows only within one slot. Only there: on a
   * single Redis the braces would change every BullMQ key, stranding the delayed retries an older
   * replica queued under `rg-bull` during a rolling upgrade. The cost on a cluster is that the
   * callback queue lives on one master, which suits a side path carrying only routes with callbacks.
   */
  bullPrefix(cluster = false): string {
    const name = `${this.prefix.replace(/:+$/, '') || 'rg'}-bull`;
    return cluster ? `{${name}}` : name;
  }
}
