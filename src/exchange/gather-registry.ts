import { decodeEnvelope, type ReplyEnvelope } from '../protocol/reply-envelope';
import type { ReplyStore } from './reply-store';
import { storedIdOf } from '../protocol/reply-keys';

/** What a scatter-gather request ended with. */
export interface GatherResult {
  replies: ReplyEnvelope[];
  /** Whether `count` replies arrived before the deadline. */
  complete: boolean;
}

interface OpenGather {
  count: number;
  replies: ReplyEnvelope[];
  seen: Set<string>;
  resolve: (result: GatherResult) => void;
  timer: NodeJS.Timeout;
}

/**
 * Scatter-gather requests waiting on this replica. Each responder's reply is stored by a relay
 * under `<prefix>reply:<id>#g<partition>-<offset>` and announced by the usual keyspace
 * notification; the registry reads each once and answers when `count` have arrived, or at the
 * deadline with what it has.
 */
export class GatherRegistry {
  private readonly open = new Map<string, OpenGather>();

  constructor(private readonly store: ReplyStore) {}

  get size(): number {
    return this.open.size;
  }

  /** Wait for up to `count` replies to `correlationId`; call before publishing. */
  gather(
    correlationId: string,
    count: number,
    timeoutMs: number,
    onCancel?: (cancel: () => void) => void,
  ): Promise<GatherResult> {
    return new Promise<GatherResult>((resolve) => {
      const entry: OpenGather = {
        count,
        replies: [],
        seen: new Set(),
        resolve,
        timer: setTimeout(() => this.finish(correlationId, false), timeoutMs),
      };
      this.open.set(correlationId, entry);
      onCancel?.(() => this.finish(correlationId, false));
    });
  }

  /** A reply `<id>#<suffix>` landed. Returns false when nobody gathers it. */
  notify(correlationId: string, suffix: string): boolean {
    const entry = this.open.get(correlationId);
    if (entry === undefined) return false;
    if (entry.seen.has(suffix)) return true;
    entry.seen.add(suffix);
    this.store.readReply(storedIdOf(correlationId, suffix)).then(
      (raw) => {
        if (raw === null || this.open.get(correlationId) !== entry) return;
        try {
          entry.replies.push(decodeEnvelope(raw));
        } catch {
          return; // a malformed reply is left out of the gathered set
        }
        if (entry.replies.length >= entry.count) this.finish(correlationId, true);
      },
      () => entry.seen.delete(suffix),
    );
    return true;
  }

  /** Stop gathering (e.g. the request could not be published). */
  cancel(correlationId: string): void {
    this.finish(correlationId, false);
  }

  private finish(correlationId: string, complete: boolean): void {
    const entry = this.open.get(correlationId);
    if (entry === undefined) return;
    this.open.delete(correlationId);
    clearTimeout(entry.timer);
    entry.resolve({ replies: entry.replies, complete });
  }
}
