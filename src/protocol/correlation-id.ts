import { randomBytes } from 'node:crypto';
import { randomText } from './random-pool';

/** Instance ids are safe in Redis key patterns and Kafka headers: no glob or separator characters. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const RANDOM_PART = /^[A-Za-z0-9_-]{22}$/;

/**
 * A correlation id is `<instanceId>.<random>` where the random part is 128 bits of CSPRNG output
 * in base64url (22 characters). The instance part tells every relay whose request it was,
 * so the originating replica can subscribe to its own keys only.
 * The random bits come from {@link randomText}'s pool (one CSPRNG call per 256 ids).
 */
export function newCorrelationId(instanceId: string): string {
  return `${instanceId}.${randomText(16, 'base64url')}`;
}

/** A new random instance id, used when `REPLYGATE_INSTANCE_ID` is not set. */
export function newInstanceId(): string {
  return `rg-${randomBytes(6).toString('hex')}`;
}

/** Split a correlation id into its parts, or `undefined` when it is not one of ours. */
export function parseCorrelationId(id: string): { instanceId: string; random: string } | undefined {
  const dot = id.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const instanceId = id.slice(0, dot);
  const random = id.slice(dot + 1);
  if (!INSTANCE_ID_PATTERN.test(instanceId) || !RANDOM_PART.test(random)) return undefined;
  return { instanceId, random };
}
