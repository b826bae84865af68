import type { Redis } from 'ioredis';
import { RedisNotificationsDisabledError } from '../errors';
import type { Logger } from '../logging';

/** Whether a `notify-keyspace-events` value publishes keyspace events for SET. */
export function notificationsCoverSet(flags: string): boolean {
  return flags.includes('K') && (flags.includes('$') || flags.includes('A'));
}

/**
 * Verify at start-up that Redis publishes the keyspace notifications the gateway wakes on.
 * With `configure`, add the missing flags (keeping any already set); otherwise throw
 * {@link RedisNotificationsDisabledError}, which names the setting and how to change it.
 */
export async function ensureKeyspaceNotifications(redis: Redis, configure: boolean, log: Logger): Promise<void> {
  let current: string | undefined;
  try {
    const reply = (await redis.config('GET', 'notify-keyspace-events')) as string[];
    current = reply[1] ?? '';
  } catch (cause) {
    throw new RedisNotificationsDisabledError(undefined, {
      cause,
      details: {
        hint: 'CONFIG GET is not allowed on this Redis; set notify-keyspace-events=K$ in its configuration and start replygate with REPLYGATE_REDIS_CHECK=false',
      },
    });
  }
  if (notificationsCoverSet(current)) return;
  if (!configure) throw new RedisNotificationsDisabledError(current);
  const wanted = `${current}${current.includes('K') ? '' : 'K'}${current.includes('$') || current.includes('A') ? '' : '$'}`;
  await redis.config('SET', 'notify-keyspace-events', wanted);
  log.warn({ from: current, to: wanted }, 'set Redis notify-keyspace-events (--redis-configure)');
}
