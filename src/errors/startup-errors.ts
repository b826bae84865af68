import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** Configuration (env, flags or the routes file) failed validation at start-up. */
export class ConfigError extends ReplygateError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_CONFIG_INVALID', message, options);
  }
}

/** Redis does not publish the keyspace notifications the gateway wakes on. */
export class RedisNotificationsDisabledError extends ReplygateError {
  constructor(
    readonly current: string | undefined,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_REDIS_NOTIFICATIONS_DISABLED',
      `Redis notify-keyspace-events is "${current ?? 'unknown'}" but must contain K and $ (or K and A). ` +
        `Run "CONFIG SET notify-keyspace-events K$" (managed Redis: set it in the parameter group), ` +
        `or start replygate with --redis-configure / REPLYGATE_REDIS_CONFIGURE=true to set it.`,
      options,
    );
  }
}

/** The settings a {@link StartupError} can name, with their environment variable and flag. */
export interface StartupSetting {
  env: string;
  /** Absent for secrets, which have no flag. */
  flag?: string;
}

/**
 * A dependency or resource the replica needs could not be had at start-up: Kafka or Redis not
 * reachable, the HTTP port taken. The message leads with the setting to change (variable and flag)
 * and the address it gave, e.g. `KAFKA_BROKERS (--kafka-brokers) 127.0.0.1:1: connection refused`.
 */
export class StartupError extends ReplygateError {
  constructor(
    readonly settings: readonly StartupSetting[],
    /** The address (never with a password) the setting gave. */
    readonly address: string,
    /** What went wrong there, in words ("connection refused", "address already in use"). */
    readonly problem: string,
    options: ReplygateErrorOptions = {},
  ) {
    super(
      'RG_STARTUP_FAILED',
      `${settings.map((s) => (s.flag === undefined ? s.env : `${s.env} (--${s.flag})`)).join(' / ')} ${address}: ${problem}`,
      options,
    );
  }
}

const NETWORK_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied (ports below 1024 need privileges)',
};

/** A network error (`ECONNREFUSED` and the like) in words an operator reads; else its message. */
export function describeNetworkError(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NETWORK_PROBLEMS[code] !== undefined) return NETWORK_PROBLEMS[code];
  return err instanceof Error ? err.message : String(err);
}
