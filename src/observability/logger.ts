import pino, { type Logger } from 'pino';
import { serializeError } from './scrub-error';

export type { Logger } from 'pino';

/**
 * The root structured logger. Components take a child with their own namespace
 * (`logger.child({ component: 'relay' })`), so lines can be filtered per component.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError },
  });
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
