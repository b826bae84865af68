import { createHash } from 'node:crypto';

/** One API key as the gateway stores it: never the key itself, only its SHA-256. */
export interface ApiKeyRecord {
  /** Stable, non-secret id of the key (sent to services as `rg-auth-key-id`). */
  id: string;
  /** SHA-256 of the key, 64 lower-case hex characters. */
  hash: string;
  /** Who the key belongs to (sent to services as `rg-auth-subject`). */
  subject: string;
  /** Scopes the key grants. */
  scopes: readonly string[];
  /** Route names the key may call; `undefined` for every route that takes API keys. */
  routes?: readonly string[] | undefined;
}

/**
 * Where API keys are looked up, by the hash of the presented key. The file store is the one
 * implementation today; a Redis-backed store (`<prefix>apikey:<hash>`) is one new file.
 */
export interface ApiKeyStore {
  /** The record whose `hash` equals `hash`, if any. */
  find(hash: string): Promise<ApiKeyRecord | undefined>;
}

/**
 * SHA-256 hex of an API key. A fast hash is enough here because keys are generated with 256 bits
 * of randomness (see the README): no dictionary or brute force reaches them, unlike passwords,
 * which need a slow salted hash. Being unsalted also lets the hash itself be the lookup key.
 *
 * @example
 * hashApiKey('rgk_…'); // '9b71…'
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
