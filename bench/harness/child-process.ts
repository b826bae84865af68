import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A process the benchmark started. */
export interface BenchProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The fields of its `{"event":"ready"}` line. */
  ready: Record<string, unknown>;
  output: string[];
  /** Lines after the ready line that parse as JSON (the floor client's results). */
  next(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Start `node <args>` and wait for its `{"event":"ready"}` line on stdout. */
export function startNode(
  name: string,
  args: string[],
  env: Record<string, string>,
  nodeFlags: string[] = [],
  timeoutMs = 90_000,
): Promise<BenchProcess> {
  return startProcess(name, process.execPath, [...nodeFlags, ...args], env, timeoutMs);
}

/**
 * Start `command <args>` (a peer's JVM, say) and wait for its `{"event":"ready"}` line on stdout.
 * `cwd` defaults to the bench process' own.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 90_000,
  cwd?: string,
): Promise<BenchProcess> {
  const child = spawn(command, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(cwd !== undefined ? { cwd } : {}),
  });
  const output: string[] = [];
  const queued: Record<string, unknown>[] = [];
  const waiters: ((v: Record<string, unknown>) => void)[] = [];
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`));
    }, timeoutMs);
    void exited.then(() => reject(new Error(`${name} exited before ready:\n${output.slice(-20).join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.startsWith('{"event"')) return;
      const msg = JSON.parse(line) as Record<string, unknown>;
      if (msg['event'] !== 'ready') {
        const w = waiters.shift();
        if (w) w(msg);
        else queued.push(msg);
        return;
      }
      clearTimeout(timer);
      resolve({
        name,
        child,
        pid: child.pid ?? 0,
        ready: msg,
        output,
        next: () =>
          new Promise((r, rej) => {
            const q = queued.shift();
            if (q) return r(q);
            waiters.push(r);
            void exited.then(() => rej(new Error(`${name} exited:\n${output.slice(-20).join('\n')}`)));
          }),
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}
