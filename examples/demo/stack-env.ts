/**
 * Parse what `scripts/stack.sh up` / `env` print: one `export NAME=value` line per variable
 * (`eval "$(scripts/stack.sh up)"` must export them, or child processes such as the gateway fall
 * back to their defaults). Plain `NAME=value` lines, as printed before, are accepted too; other
 * lines are ignored. The value is everything after the first `=`.
 *
 * @example
 * parseStackEnv('export KAFKA_BROKERS=127.0.0.1:9092\n') // { KAFKA_BROKERS: '127.0.0.1:9092' }
 */
export function parseStackEnv(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const raw of stdout.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*?)\s*$/.exec(raw);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}
