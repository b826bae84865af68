import { decodeEnvelope, type ReplyEnvelope } from '../protocol/reply-envelope';
import type { ReplyStore } from './reply-store';
import { partId } from '../protocol/reply-keys';

/** How a streamed reply ended. */
export type StreamEnd = 'complete' | 'timeout' | 'cancelled' | 'read-failed';

/** Callbacks of one open stream. */
export interface StreamHandlers {
  /** A part, strictly in sequence order (0, 1, …); never called after `onEnd`. */
  onPart(part: ReplyEnvelope, seq: number): void;
  /** The stream ended: its final marker arrived, its deadline passed, or it was cancelled. */
  onEnd(reason: StreamEnd, nextSeq: number): void;
}

interface OpenStream {
  handlers: StreamHandlers;
  next: number;
  /** Sequence numbers notified but not yet delivered (they may arrive out of order). */
  arrived: Set<number>;
  reading: boolean;
  timer: NodeJS.Timeout;
}

/**
 * Streamed replies waiting on this replica. Parts are stored by any relay under
 * `<prefix>reply:<id>#<seq>` and announced by the same keyspace notification as whole replies; the
 * registry reads them in sequence order whatever order they land in, and ends the stream on the
 * final marker or at the deadline (after one last read of whatever has landed unannounced).
 */
export class StreamRegistry {
  private readonly streams = new Map<string, OpenStream>();

  constructor(private readonly store: ReplyStore) {}

  get size(): number {
    return this.streams.size;
  }

  /** Open a stream before publishing its request; returns a cancel function. */
  open(correlationId: string, timeoutMs: number, handlers: StreamHandlers): (reason?: StreamEnd) => void {
    const stream: OpenStream = {
      handlers,
      next: 0,
      arrived: new Set(),
      reading: false,
      timer: setTimeout(() => void this.expire(correlationId), timeoutMs),
    };
    this.streams.set(correlationId, stream);
    return (reason = 'cancelled') => this.end(correlationId, reason);
  }

  /** A part `<id>#<seq>` was stored. Returns false when no stream waits for it. */
  notify(correlationId: string, seq: number): boolean {
    const stream = this.streams.get(correlationId);
    if (stream === undefined) return false;
    stream.arrived.add(seq);
    void this.pump(correlationId, stream, false);
    return true;
  }

  /** After a lost notification channel: read on from each stream's next part. */
  resync(): void {
    for (const [id, stream] of this.streams) void this.pump(id, stream, true);
  }

  private async pump(correlationId: string, stream: OpenStream, probe: boolean): Promise<void> {
    if (stream.reading) return;
    stream.reading = true;
    try {
      while (this.streams.get(correlationId) === stream && (probe || stream.arrived.has(stream.next))) {
        const raw = await this.store.readReply(partId(correlationId, stream.next));
        if (raw === null) break;
        stream.arrived.delete(stream.next);
        const part = decodeEnvelope(raw);
        if (part.meta.final === true) {
          this.end(correlationId, 'complete');
          return;
        }
        stream.handlers.onPart(part, stream.next);
        stream.next++;
      }
    } catch {
      this.end(correlationId, 'read-failed');
    } finally {
      stream.reading = false;
    }
  }

  private async expire(correlationId: string): Promise<void> {
    const stream = this.streams.get(correlationId);
    if (stream === undefined) return;
    // Whatever landed without its notification is still delivered before the stream ends.
    while (stream.reading) await new Promise((r) => setImmediate(r));
    await this.pump(correlationId, stream, true);
    this.end(correlationId, 'timeout');
  }

  private end(correlationId: string, reason: StreamEnd): void {
    const stream = this.streams.get(correlationId);
    if (stream === undefined) return;
    this.streams.delete(correlationId);
    clearTimeout(stream.timer);
    stream.handlers.onEnd(reason, stream.next);
  }
}
