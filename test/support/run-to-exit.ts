import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = resolve(__dirname, '../../dist/cli/main.js');

/** A `replygate serve` run watched to its exit: code, time, every output line. */
export interface ExitedRun {
  code: number | null;
  elapsedMs: number;
  /** stdout and stderr lines, in arrival order. */
  lines: string[];
  text: string;
}

/**
 * Run `node dist/cli/main.js serve ...` with `env` until it exits (SIGKILL after `maxMs`): for
 * start-ups that must fail, and what they print on the way.
 */
export function serveToExit(env: Record<string, string>, args: string[] = [], maxMs = 30_000): Promise<ExitedRun> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(l));
  const timer = setTimeout(() => child.kill('SIGKILL'), maxMs);
  return new Promise<ExitedRun>((res) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ code, elapsedMs: Date.now() - started, lines, text: lines.join('\n') });
    });
  });
}
