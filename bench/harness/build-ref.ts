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
  const dir = checkoutRef(ref, log);
  const cli = join(dir, 'bench/.build/src/cli/main.js');
  if (existsSync(cli)) return cli;
  log(`building ${ref} in ${dir}`);
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

/**
 * The files of git commit `ref` in a temp folder (`git archive`, so no worktree is registered),
 * sharing this checkout's node_modules: what {@link buildRef} compiles, and what a bench that runs
 * sources with tsx (`npm run bench:memory -- --ref <commit>`) runs. Extracted once per commit.
 */
export function checkoutRef(ref: string, log: (msg: string) => void): string {
  const sha = execFileSync('git', ['rev-parse', '--short=12', `${ref}^{commit}`], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  const dir = join(os.tmpdir(), `replygate-bench-ref-${sha}`);
  if (!existsSync(join(dir, 'package.json'))) {
    log(`extracting ${ref} (${sha}) into ${dir}`);
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive --format=tar ${sha} | tar -x -C '${dir}'`], { cwd: ROOT, stdio: 'ignore' });
  }
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}
