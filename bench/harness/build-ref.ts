import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';

/** The variant setting that runs a variant's gateway processes from another commit. */
export const BENCH_REF = 'BENCH_REF';

const ROOT = resolve(__dirname, '../..');

/**
 * Build the gateway of git commit `ref` for a before/after comparison in one run
 * (`--variants 'replygate-split,replygate-split@BENCH_REF=HEAD~1'`): that commit's files
 * (`git archive`, so no worktree is registered) in the temp folder, sharing this checkout's
 * node_modules, compiled with bench/tsconfig.json. Returns the path of its CLI. Built once per
 * commit; the folder is left for the next run.
 */
export function buildRef(ref: string, log: (msg: string) => void): string {
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${ref}^{commit}`], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const dir = join(os.tmpdir(), `replygate-bench-ref-${sha}`);
  const cli = join(dir, 'bench/.build/src/cli/main.js');
  if (existsSync(cli)) return cli;
  log(`building ${ref} (${sha}) in ${dir}`);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive --format=tar ${sha} | tar -x -C '${dir}'`], { cwd: ROOT, stdio: 'ignore' });
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'bench/tsconfig.json')],
      {
        cwd: dir,
        stdio: 'inherit',
      },
    );
  } catch {
    // tsc emits on type errors too (as for this checkout's build).
    log(`tsc reported type errors building ${ref}; running what it emitted`);
  }
  return cli;
}
