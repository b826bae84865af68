import { OverloadedError, UnavailableError } from '../errors/reply-errors';
import type { CallerIdentity } from '../protocol/caller-identity';
import type { AdmissionContext, RequestStage } from './admission-context';

/** What decides whether a request is admitted: its stages, the replica's state and its load. */
export interface AdmissionGate {
  /** Authentication, rate limits, CORS: run in order, each may refuse. */
  readonly stages: readonly RequestStage[];
  /** Why new requests cannot be admitted right now (503), or `undefined` when they can. */
  blocker(): string | undefined;
  /**
   * Called with the blocker's reason before refusing: resolves once a passing condition (a Redis
   * connection that is reconnecting) may be over, or at once; the blocker is then asked again.
   */
  recover?(reason: string): Promise<void>;
  /** Requests parked on this replica now. */
  pending(): number;
  /** REPLYGATE_MAX_PENDING: at or over it a request is refused (503 `RG_OVERLOADED`). */
  readonly maxPending: number;
}

/**
 * Admit one request, HTTP or WebSocket alike, before the gateway spends anything on it: the stages
 * in order, then the replica's admission blocker, then the pending bound. Returns the caller's
 * identity (`undefined` when anonymous); throws the refusal as a `ReplygateError`.
 *
 * @example
 * const identity = await admit(ctx, { stages, blocker: admissionBlocker, pending: () => registry.size, maxPending });
 */
export async function admit(ctx: AdmissionContext, gate: AdmissionGate): Promise<CallerIdentity | undefined> {
  for (const stage of gate.stages) await stage(ctx);
  let blocker = gate.blocker();
  if (blocker !== undefined && gate.recover !== undefined) {
    await gate.recover(blocker);
    blocker = gate.blocker();
  }
  if (blocker !== undefined) throw new UnavailableError(blocker);
  if (gate.pending() >= gate.maxPending) throw new OverloadedError(gate.maxPending);
  return ctx.identity;
}
