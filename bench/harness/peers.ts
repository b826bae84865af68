import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The peers' folders (bench/peers/README.md). */
export const SPRING_DIR = resolve(__dirname, '../peers/spring');
export const NEST_DIR = resolve(__dirname, '../peers/nest');
/** What each build leaves behind (ignored by git). */
export const SPRING_JAR = join(SPRING_DIR, 'target/spring-peer.jar');
export const NEST_MAIN = join(NEST_DIR, 'dist/main.js');

/** Newest modification time under `dir` (recursively), in ms. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function stale(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return true;
  const built = statSync(output).mtimeMs;
  return inputs.some((p) => (statSync(p).isDirectory() ? newest(p) : statSync(p).mtimeMs) > built);
}

function run(cmd: string, args: string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

/**
 * Build the Spring peer (`mvn package`, offline first so a warm ~/.m2 needs no network, online when
 * that fails) unless its jar is newer than its sources. Returns the jar.
 */
export function buildSpringPeer(log: (msg: string) => void): string {
  if (!stale(SPRING_JAR, [join(SPRING_DIR, 'pom.xml'), join(SPRING_DIR, 'src')])) return SPRING_JAR;
  log('building bench/peers/spring (mvn package)');
  try {
    run('mvn', ['-q', '-B', '-o', 'package', '-DskipTests'], SPRING_DIR);
  } catch {
    log('offline Maven build failed; building online (Maven Central)');
    run('mvn', ['-q', '-B', 'package', '-DskipTests'], SPRING_DIR);
  }
  return SPRING_JAR;
}

/**
 * Install the NestJS peer's pinned dependencies into its own folder (`npm ci`, from its lock file)
 * when they are missing or older than the lock file, and compile it when its sources changed.
 */
export function buildNestPeer(log: (msg: string) => void): string {
  const lock = join(NEST_DIR, 'package-lock.json');
  if (stale(join(NEST_DIR, 'node_modules/.package-lock.json'), [lock])) {
    log('installing bench/peers/nest dependencies (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund'], NEST_DIR);
  }
  if (stale(NEST_MAIN, [join(NEST_DIR, 'src'), join(NEST_DIR, 'tsconfig.json')])) {
    log('compiling bench/peers/nest (tsc)');
    run(process.execPath, [join(NEST_DIR, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], NEST_DIR);
  }
  return NEST_MAIN;
}
