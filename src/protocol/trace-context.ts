import { randomText } from './random-pool';

/** W3C Trace Context header names, on HTTP requests and responses and on Kafka messages. */
export const TRACE_HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** One hop of a W3C trace: the ids a `traceparent` header carries, plus the vendor `tracestate`. */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  traceId: string;
  /** The span id of this hop (the `parent-id` field when sent on), 16 lower-case hex digits. */
  spanId: string;
  /** Trace flags; bit 0 is `sampled`. */
  flags: number;
  /** The `tracestate` header, passed on unchanged. */
  state?: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
// The list syntax is the vendors' business; the gateway only refuses what could split a header.
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * Parse a `traceparent` (and optional `tracestate`) header. Returns `undefined` for anything the
 * W3C spec says to ignore: a malformed value, version `ff`, all-zero ids, or extra fields on
 * version `00`. A future version is read by its first four fields, as the spec asks.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId
 */
export function parseTraceparent(traceparent: unknown, tracestate?: unknown): TraceContext | undefined {
  if (typeof traceparent !== 'string' || traceparent.length > 256) return undefined;
  const m = TRACEPARENT.exec(traceparent.trim());
  if (m === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  const context: TraceContext = { traceId, spanId, flags: parseInt(flags, 16) };
  const state = Array.isArray(tracestate) ? tracestate.join(',') : tracestate;
  if (typeof state === 'string' && TRACESTATE.test(state)) context.state = state;
  return context;
}

/** Format a {@link TraceContext} as a version-00 `traceparent`. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.flags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A new random span id (64 bits, never all zero). */
export function newSpanId(): string {
  for (;;) {
    const id = randomText(8, 'hex');
    if (id !== ZERO_SPAN) return id;
  }
}

/** A new random trace id (128 bits, never all zero). */
export function newTraceId(): string {
  for (;;) {
    const id = randomText(16, 'hex');
    if (id !== ZERO_TRACE) return id;
  }
}

/**
 * The next hop of a trace: same trace id, flags and state, a new span id. Without a parent it
 * starts a new trace, marked sampled so that the services' parent-based samplers record it (the
 * gateway may not record its own hop, but it should not stop the services from recording theirs).
 */
export function childContext(parent: TraceContext | undefined): TraceContext {
  if (parent === undefined) return { traceId: newTraceId(), spanId: newSpanId(), flags: 1 };
  const child: TraceContext = { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags };
  if (parent.state !== undefined) child.state = parent.state;
  return child;
}
