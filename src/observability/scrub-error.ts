import pino from 'pino';

/** Redis commands whose arguments are credentials: `AUTH [user] password`, `HELLO … AUTH user password`. */
const CREDENTIAL_COMMANDS = new Set(['auth', 'hello']);

/** Replace the arguments of credential commands found anywhere in `value` (a serialized error). */
function scrub(value: unknown, depth: number): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  const command = record['command'] as { name?: unknown; args?: unknown } | undefined;
  if (command !== null && typeof command === 'object' && typeof command.name === 'string') {
    if (CREDENTIAL_COMMANDS.has(command.name.toLowerCase())) record['command'] = { name: command.name, args: ['***'] };
  }
  for (const [key, child] of Object.entries(record)) if (key !== 'command') scrub(child, depth + 1);
}

/**
 * pino's error serializer, minus the password ioredis attaches to a refused `AUTH` or `HELLO`
 * (`ReplyError.command.args`): a wrong Redis password must not reach the logs, even at debug.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  scrub(out, 0);
  return out;
}
