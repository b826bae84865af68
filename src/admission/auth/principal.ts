import { createHash } from 'node:crypto';

/**
 * A stable, non-secret fingerprint of a caller: the SHA-256 hex of `apikey:<id>` or
 * `jwt:<iss>:<sub>`. Rate-limit counters and reply bindings key on it; it reveals neither the
 * credential nor, without the id list, who the caller is.
 *
 * @example
 * principalOf('apikey', 'ci-bot'); // '3f0c…' (64 hex)
 */
export function principalOf(kind: 'apikey' | 'jwt', ...parts: string[]): string {
  return createHash('sha256')
    .update([kind, ...parts].join(':'))
    .digest('hex');
}
