import type { Logger } from 'pino';

/**
 * A warning that one request's failure logs, bounded to one full line per window: the first
 * occurrence of a window is logged as is, the rest are counted, and one summary line at the end of
 * the window says how many there were and carries the last one's fields.
 *
 * Why: during an outage every request fails the same way. At 150 requests/s a replica wrote 2,950
 * `publish failed` lines with their stacks in 20 s (fault scenario 7). stdout to a pipe is
 * synchronous in node, so when whatever reads it (a log collector, the container runtime, the
 * fault harness) falls behind, the replica's event loop blocks on the write: requests then answer
 * seconds past their deadline, the very outage the lines report making it worse.
 *
 * @example
 * const publishFailed = new LogBurst(log, 'publish failed');
 * publishFailed.warn({ err, correlationId, topic });
 */
export class LogBurst {
  private suppressed = 0;
  private last: Record<string, unknown> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: Logger,
    private readonly msg: string,
    private readonly windowMs = 5_000,
  ) {}

  warn(fields: Record<string, unknown>): void {
    if (this.timer === undefined) {
      this.log.warn(fields, this.msg);
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
      return;
    }
    this.suppressed += 1;
    this.last = fields;
  }

  /** Write the summary of the current window now (e.g. at shutdown), and start a new window. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed > 0) {
      this.log.warn(
        { ...this.last, repeated: this.suppressed, windowMs: this.windowMs },
        `${this.msg} (${this.suppressed} more like it in ${this.windowMs} ms; the last one's fields)`,
      );
    }
    this.suppressed = 0;
    this.last = undefined;
  }
}
