/** One in-process component whose long failure should get the process restarted. */
export interface LivenessCheck {
  /** Component name, as `/healthz` reports it (e.g. `relay`). */
  name: string;
  /** How long the component has been failing now (0 while it works). */
  downForMs(): number;
}

/** What `/healthz` answers. */
export interface LivenessReport {
  alive: boolean;
  /** Components down for longer than the bound, with how long. */
  failing: { component: string; downForMs: number }[];
}

/**
 * The checks behind `/healthz`. Components recover by themselves (a crashed consumer is rebuilt
 * with backoff); only one still down after `boundMs` (REPLYGATE_RECOVERY_TIMEOUT_MS) makes the
 * replica not alive, so an orchestrator restarts the process instead of it serving 504s for ever.
 */
export class Liveness {
  private readonly checks: LivenessCheck[] = [];

  /** @param boundMs longest a component may stay down; 0 never fails. */
  constructor(private readonly boundMs: number) {}

  add(check: LivenessCheck): void {
    this.checks.push(check);
  }

  report(): LivenessReport {
    if (this.boundMs <= 0) return { alive: true, failing: [] };
    const failing = this.checks
      .map((c) => ({ component: c.name, downForMs: c.downForMs() }))
      .filter((c) => c.downForMs > this.boundMs);
    return { alive: failing.length === 0, failing };
  }
}
