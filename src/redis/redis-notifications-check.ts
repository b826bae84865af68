import type { RedisClient } from './redis-connections';
import { RedisNotificationsDisabledError } from '../errors/startup-errors';
import type { Logger } from '../observability/logger';

/** Whether a `notify-keyspace-events` value publishes keyspace events for SET. */
export function notificationsCoverSet(flags: string): boolean {
  return flags.includes('K') && (flags.includes('$') || flags.includes('A'));
}

/** `flags` plus whatever is missing for SET keyspace events (what is there is kept). */
export function withSetNotifications(flags: string): string {
  return `${flags}${flags.includes('K') ? '' : 'K'}${flags.includes('$') || flags.includes('A') ? '' : '$'}`;
}

/** Read Redis' `notify-keyspace-events` (CONFIG GET; throws where CONFIG is not allowed). */
export async function readNotifyKeyspaceEvents(redis: RedisClient): Promise<string> {
  const reply = (await redis.config('GET', 'notify-keyspace-events')) as string[];
  return reply[1] ?? '';
}

/** Add the flags SET keyspace events need to `current` (CONFIG SET); resolves with the value set. */
export async function applyKeyspaceNotifications(redis: RedisClient, current: string): Promise<string> {
  const wanted = withSetNotifications(current);
  await redis.config('SET', 'notify-keyspace-events', wanted);
  return wanted;
}

/**
 * Verify at start-up that Redis publishes the keyspace notifications the gateway wakes on.
 * With `configure`, add the missing flags (keeping any already set); otherwise throw
 * {@link RedisNotificationsDisabledError}, which names the setting and how to change it.
 */
export async function ensureKeyspaceNotifications(redis: RedisClient, configure: boolean, log: Logger): Promise<void> {
  let current: string;
  try {
    current = await readNotifyKeyspaceEvents(redis);
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
  const wanted = await applyKeyspaceNotifications(redis, current);
  log.warn({ from: current, to: wanted }, 'set Redis notify-keyspace-events (--redis-configure)');
}
