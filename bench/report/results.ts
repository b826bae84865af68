import type { EventsBenchResult } from '../events/events-bench';
import type { LatencySummary } from '../load/latency-stats';

/** Costs measured around one run. */
export interface RunCosts {
  requests: number;
  /** CPU of the gateway processes (all of a variant's replicas; the floor process for the floor) per 1,000 answered requests. */
  gatewayCpuMsPer1k: number;
  /**
   * The same, less what the processes burn idle over the same time (heartbeats, fetch polls,
   * timers; {@link VariantResult.idleCpuMsPerSec}): the cost of the requests themselves, which
   * the plain figure overstates when a busy machine lets few requests through.
   */
  gatewayCpuMsPer1kNet?: number;
  responderCpuMsPer1k: number;
  redisCpuMsPer1k: number;
  /** Redis commands (INFO commandstats delta, INFO itself excluded) per answered request. */
  redisCommandsPerRequest: number;
  redisCommands: Record<string, number>;
  /**
   * Milliseconds per second of the window that the main (event-loop) threads were runnable but
   * waiting for a CPU (`/proc/<pid>/schedstat`): the gateway processes (the floor process for the
   * floor), the echo responder, and the bench process (the HTTP load generator).
   */
  runQueueMsPerSec?: { gateway: number; responder: number; loadGenerator: number };
  /**
   * The relay processes alone, for variants that run them apart (their CPU is in the gateway CPU
   * too): CPU per 1,000 answered requests, Kafka fetch responses and reply bytes read per request,
   * and their Redis writes by result (`stored`, `duplicate`).
   */
  relay?: {
    cpuMsPer1k: number;
    fetchesPerRequest: number;
    readBytesPerRequest: number;
    writes: Record<string, number>;
  };
}

export interface ClosedRun extends RunCosts {
  payloadBytes: number;
  concurrency: number;
  round?: number;
  /** rps of every round (the run shown is the median one). */
  rounds?: number[];
  rps: number;
  ok: number;
  errors: number;
}

export interface OpenRun extends RunCosts {
  payloadBytes: number;
  rate: number;
  round?: number;
  /** [p50, p99] of every round (the run shown is the one with the median p99). */
  rounds?: number[][];
  ok: number;
  latency: LatencySummary;
  /** Event-loop delay of the serving process(es) over the window (worst replica). */
  loopLag?: { p99Ms: number; maxMs: number };
}

export interface ParkRun {
  parked: number;
  rssBeforeBytes: number;
  /** RSS with `parked` idle connections open and no request sent yet (HTTP variants). */
  rssConnectedBytes?: number;
  rssAfterBytes: number;
  /** RSS growth per parked request, its connection included. */
  bytesPerParked: number;
  /** RSS growth per idle open connection (socket, HTTP parser), before any request. */
  bytesPerConnection?: number;
  /** RSS growth per request parked on an already open connection: the request's own cost. */
  bytesPerRequestOnConnection?: number;
}

export interface VariantResult {
  name: string;
  label: string;
  closed: ClosedRun[];
  open: OpenRun[];
  park?: ParkRun;
  /** CPU the gateway processes use with no load, ms per second (measured once, after the warm-up). */
  idleCpuMsPerSec?: number;
  /** Why parking failed, when it did. */
  parkError?: string;
  /** Patterns and pub/sub connections on each Redis master, after the first round's warm-up. */
  redisSubscribers?: { master: string; patterns: number; subscribers: number }[];
}

/** The raw results of one `npm run bench`, committed under bench/results/. */
export interface BenchResults {
  startedAt: string;
  tag: string;
  machine: { node: string; cpus: number; cpuModel: string; memGiB: number; platform: string };
  plan: Record<string, unknown>;
  variants: VariantResult[];
  /** Wall time of the whole run, builds and start-up included, in seconds. */
  elapsedSec?: number;
  /** The events phase (issue 15): the event relay's cost per event; absent with `--no-events`. */
  events?: EventsBenchResult;
}
