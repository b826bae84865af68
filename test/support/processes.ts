import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = resolve(__dirname, '../../dist/cli/main.js');
/** The sample services' runner (formerly `replygate sample`), built by `npm run build`. */
const SAMPLE = resolve(__dirname, '../../dist/examples/samples/run-sample.js');

/** A replygate process started by a test. */
export interface ChildReplica {
  child: ChildProcess;
  /** HTTP port reported by a `serve` process (0 for samples). */
  port: number;
  instanceId: string;
  /** stderr and stdout lines, for diagnostics when a test fails. */
  output: string[];
  /** SIGTERM and wait for exit; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Start `node dist/cli/main.js <args>` with `env` and wait for its `{"event":"ready"}` line.
 * Tests run the built binary, as operators do (build first: `npm test` does).
 */
export function startProcess(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ChildReplica> {
  // `['sample', name, ...]` runs examples/samples/run-sample (samples left the gateway's binary).
  const argv = args[0] === 'sample' ? [SAMPLE, ...args.slice(1)] : [CLI, ...args];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  return new Promise<ChildReplica>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} not ready within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`));
    }, timeoutMs);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code} before ready:\n${output.slice(-20).join('\n')}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      if (!line.startsWith('{"event":"ready"')) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as { port?: number; instanceId?: string };
      resolveReady({
        child,
        port: info.port ?? 0,
        instanceId: info.instanceId ?? '',
        output,
        async stop(graceMs = 15_000) {
          if (child.exitCode !== null) return child.exitCode;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
        async kill() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
