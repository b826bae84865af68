import { timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../../errors/auth-errors';
import type { CallerIdentity } from '../../protocol/caller-identity';
import { hashApiKey, type ApiKeyRecord, type ApiKeyStore } from './api-key-store';
import { principalOf } from './principal';

/** What an API key may be: printable ASCII without spaces, 16 to 512 characters. */
const API_KEY_SHAPE = /^[\x21-\x7e]{16,512}$/;

/** A verified API key: the caller's identity and the routes the key is limited to. */
export interface VerifiedApiKey {
  identity: CallerIdentity;
  /** Route names the key may call; `undefined` for all. */
  routes: readonly string[] | undefined;
}

/**
 * Checks presented API keys against an {@link ApiKeyStore}.
 *
 * @example
 * const { identity } = await new ApiKeyVerifier(store).verify(req.headers['x-api-key']);
 */
export class ApiKeyVerifier {
  constructor(private readonly store: ApiKeyStore) {}

  /** Resolve a presented key to its identity; throws {@link UnauthenticatedError} (401) otherwise. */
  async verify(key: string): Promise<VerifiedApiKey> {
    if (!API_KEY_SHAPE.test(key)) {
      throw new UnauthenticatedError('invalid', 'The API key is malformed');
    }
    const hash = hashApiKey(key);
    const record = await this.store.find(hash);
    // The lookup is keyed by a hash of the secret, so its timing reveals nothing about the key.
    // The constant-time comparison still guards stores that match loosely (a prefix, an index).
    if (record === undefined || !sameHash(record, hash)) {
      throw new UnauthenticatedError('invalid', 'The API key is not valid');
    }
    return {
      identity: {
        subject: record.subject,
        keyId: record.id,
        scopes: [...record.scopes],
        method: 'apiKey',
        principal: principalOf('apikey', record.id),
      },
      routes: record.routes,
    };
  }
}

function sameHash(record: ApiKeyRecord, hash: string): boolean {
  const a = Buffer.from(record.hash, 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
