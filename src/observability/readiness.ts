/** One dependency the replica needs before it can serve. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

/**
 * Aggregates the checks behind `/readyz`. A replica is ready only when every check passes and it
 * is not draining, so a load balancer never sends it requests it cannot answer.
 */
export class Readiness {
  private readonly checks: ReadinessCheck[] = [];
  private draining = false;
  private started = false;

  add(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  markStarted(): void {
    this.started = true;
  }

  markDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** The state of every check, for the `/readyz` body. */
  report(): { ready: boolean; checks: Record<string, boolean>; draining: boolean } {
    const checks: Record<string, boolean> = { started: this.started };
    for (const c of this.checks) checks[c.name] = c.ready();
    const ready = !this.draining && Object.values(checks).every(Boolean);
    return { ready, checks, draining: this.draining };
  }
}
