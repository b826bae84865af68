import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';

/** One gateway replica as the load balancer sees it. */
export interface Target {
  name: string;
  port: number;
  /** Taking new requests (the harness' view of /readyz, plus what it did to the process). */
  inRotation: boolean;
  /** Set when the harness SIGKILLed or SIGTERMed the process; ms since epoch. */
  downSince?: number;
  downHow?: 'killed' | 'stopped';
}

/** How one logical request ended (after the load balancer's retries). */
export type Outcome =
  | { kind: 'ok'; correlationId: string }
  | { kind: 'wrong'; detail: string }
  | { kind: 'status'; status: number; code: string; correlationId: string; retryAfter?: string }
  | { kind: 'dropped'; error: string }
  | { kind: 'never' };

/** A finished request, for the scenario to judge. */
export interface RequestRecord {
  id: string;
  target: string;
  sentAt: number;
  endedAt: number;
  retries: number;
  outcome: Outcome;
  /** The origin had been killed or stopped by the harness when the request ended. */
  originDown: 'killed' | 'stopped' | undefined;
  /** For a request never answered: each attempt as `target status after ms` (where the time went). */
  attempts?: string[];
}

/** What the load sends. */
export interface LoadOptions {
  ratePerSecond: number;
  /** The path for request `id` (e.g. `/echo/${id}`). */
  path: (id: string, n: number) => string;
  /** Client-side timeout: a request unanswered by then is "never answered". */
  clientTimeoutMs: number;
  /**
   * The route's timeout. The balancer retries a refused attempt only while a whole new attempt
   * (this + 3 s) fits in the client's time left; otherwise the refusal is the answer, as a load
   * balancer with a total deadline returns the last upstream error. @defaultValue clientTimeoutMs - 10 s
   */
  routeTimeoutMs?: number;
  /** Cap on requests in flight (open loop until then). @defaultValue 3000 */
  maxInFlight?: number;
  /** Judge a 200 answer: return undefined when it is this request's own reply. */
  check?: (id: string, status: number, body: string) => string | undefined;
}

// More sockets per replica than requests in flight (maxInFlight, 3000): with 512, a replica holding
// 900 requests for a broker that was down queued the rest in this agent, and an attempt's time
// (and "never answered") included waiting for a socket here (fault scenario 7, 00:53: 517).
const agent = new Agent({ keepAlive: true, maxSockets: 4096, keepAliveMsecs: 1000 });

/** Default judge: the echo reply must carry this request's id in its path parameter and its body. */
export function echoCheck(id: string, status: number, body: string): string | undefined {
  if (status !== 200) return `status ${status}`;
  try {
    const parsed = JSON.parse(body) as { params?: { id?: string }; body?: { id?: string } };
    if (parsed.params?.id !== id || parsed.body?.id !== id) {
      return `expected ${id}, got params.id=${parsed.params?.id} body.id=${parsed.body?.id}`;
    }
    return undefined;
  } catch (err) {
    return `unparsable body: ${(err as Error).message}`;
  }
}

interface RawResult {
  status?: number;
  body?: string;
  headers?: Record<string, string | string[] | undefined>;
  error?: NodeJS.ErrnoException;
  timedOut?: boolean;
}

function send(port: number, path: string, payload: string, timeoutMs: number): Promise<RawResult> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: RawResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', (error) => finish({ error }));
      },
    );
    const timer = setTimeout(() => {
      finish({ timedOut: true });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error }));
    req.end(payload);
  });
}

/**
 * Steady open-loop load through a tiny load balancer: requests start at a fixed rate whatever the
 * answers take (up to `maxInFlight`), round-robin over the targets in rotation. Like a load
 * balancer, it retries on another replica a request that was refused before it reached the
 * gateway (connection refused) or refused by a draining/starting replica (503 RG_UNAVAILABLE that
 * is not about Redis): nothing was published for those, so the retry is safe.
 */
export class LoadGenerator {
  readonly records: RequestRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private n = 0;
  private rr = 0;
  private startedAt = 0;
  private readonly tag = randomBytes(3).toString('hex');
  /** Requests not started because maxInFlight was reached. */
  shed = 0;

  constructor(
    private readonly targets: () => Target[],
    private readonly options: LoadOptions,
  ) {}

  start(): void {
    this.startedAt = Date.now();
    const tickMs = 10;
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - this.startedAt) * this.options.ratePerSecond) / 1000);
      while (this.n < due) {
        if (this.inFlight.size >= (this.options.maxInFlight ?? 3000)) {
          this.shed += due - this.n;
          this.n = due;
          break;
        }
        const p = this.one(this.n++);
        this.inFlight.add(p);
        void p.finally(() => this.inFlight.delete(p));
      }
    }, tickMs);
  }

  /** Stop starting requests and wait for every one in flight to end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get sent(): number {
    return this.records.length + this.inFlight.size;
  }

  private pick(exclude: Set<string>): Target | undefined {
    // Like most load balancers, fail open: when no replica passes its health check, send to the
    // live ones anyway (their own 503 + Retry-After is a better answer than the balancer's).
    const rotation = this.targets().filter((t) => t.inRotation);
    const all = rotation.length > 0 ? rotation : this.targets().filter((t) => t.downSince === undefined);
    const fresh = all.filter((t) => !exclude.has(t.name));
    const pool = fresh.length > 0 ? fresh : all;
    if (pool.length === 0) return undefined;
    this.rr = (this.rr + 1) % 1_000_000;
    return pool[this.rr % pool.length];
  }

  private async one(n: number): Promise<void> {
    const id = `${this.tag}-${n}`;
    const payload = JSON.stringify({ id, n });
    const path = this.options.path(id, n);
    const sentAt = Date.now();
    const tried = new Set<string>();
    let retries = 0;
    const attempts: string[] = [];
    let target: Target | undefined;
    let outcome: Outcome | undefined;
    const check = this.options.check ?? echoCheck;
    while (outcome === undefined) {
      target = this.pick(tried);
      if (target === undefined) {
        // No replica in rotation: what a load balancer answers then.
        outcome = { kind: 'status', status: 503, code: 'LB_NO_BACKEND', correlationId: '' };
        break;
      }
      tried.add(target.name);
      const remaining = this.options.clientTimeoutMs - (Date.now() - sentAt);
      const attemptAt = Date.now();
      const r = await send(target.port, path, payload, Math.max(remaining, 1));
      const what = r.timedOut
        ? 'no answer'
        : (r.error?.code ?? `${r.status ?? 0} ${/"(RG_[A-Z_]+)"/.exec(r.body ?? '')?.[1] ?? ''}`);
      attempts.push(`${target.name} ${what} after ${Date.now() - attemptAt} ms`);
      const retriable =
        (r.error !== undefined && r.error.code === 'ECONNREFUSED') ||
        (r.status === 503 && /"RG_UNAVAILABLE"/.test(r.body ?? '') && !/Redis/.test(r.body ?? ''));
      // Without the room check, a request refused for 9 s (a broker down 17 s) got a last attempt
      // with 3.5 s left, cut by the client timeout while the replica was still within its deadline:
      // counted as never answered although every attempt was answered (fault scenario 7, 00:47).
      const attemptMs = (this.options.routeTimeoutMs ?? this.options.clientTimeoutMs - 10_000) + 3_000;
      if (retriable && retries < 5 && this.options.clientTimeoutMs - (Date.now() - sentAt) >= attemptMs) {
        retries++;
        continue;
      }
      if (r.timedOut) outcome = { kind: 'never' };
      else if (r.error !== undefined) outcome = { kind: 'dropped', error: r.error.code ?? r.error.message };
      else if (r.status === 200) {
        const wrong = check(id, r.status, r.body ?? '');
        const cid = r.headers?.['x-correlation-id'];
        outcome =
          wrong === undefined
            ? { kind: 'ok', correlationId: typeof cid === 'string' ? cid : '' }
            : { kind: 'wrong', detail: wrong };
      } else {
        let code = '';
        try {
          code = (JSON.parse(r.body ?? '') as { error?: string }).error ?? '';
        } catch {
          code = '';
        }
        const cid = r.headers?.['x-correlation-id'];
        const retryAfter = r.headers?.['retry-after'];
        outcome = {
          kind: 'status',
          status: r.status ?? 0,
          code,
          correlationId: typeof cid === 'string' ? cid : '',
          ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
        };
      }
    }
    const endedAt = Date.now();
    const originDown = target?.downSince !== undefined && target.downSince <= endedAt ? target.downHow : undefined;
    this.records.push({
      id,
      target: target?.name ?? '-',
      sentAt,
      endedAt,
      retries,
      outcome,
      originDown,
      ...(outcome.kind === 'never' ? { attempts } : {}),
    });
  }
}

/** Close the shared keep-alive agent (end of a run). */
export function closeLoadAgent(): void {
  agent.destroy();
}
