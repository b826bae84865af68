import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyResult } from 'jose';
import type { JwtAlgorithm } from '../../config/gateway-config';
import { ConfigError } from '../../errors/startup-errors';
import { UnauthenticatedError } from '../../errors/auth-errors';
import { UnavailableError } from '../../errors/reply-errors';
import type { CallerIdentity } from '../../protocol/caller-identity';
import { principalOf } from './principal';

/** Where the keys that sign accepted JWTs come from. */
export type JwtKeySource =
  /** The issuer's JWKS endpoint; keys are fetched on demand and cached (jose `createRemoteJWKSet`). */
  | { kind: 'jwks'; url: URL }
  /** A PEM public key (SPKI) or certificate. */
  | { kind: 'publicKey'; pem: string }
  /** A shared HMAC secret, at least 32 bytes. */
  | { kind: 'secret'; secret: Uint8Array };

/** Settings of a {@link JwtVerifier}. */
export interface JwtVerifierOptions {
  /** Required `iss`. */
  issuer: string;
  /** Required `aud` (the token's `aud` must contain it). */
  audience: string;
  key: JwtKeySource;
  /**
   * Accepted `alg` values. HS* only with a secret, never with a public key or JWKS, so an HS256
   * token "signed" with the public key is refused (algorithm confusion).
   * @defaultValue `['HS256']` with a secret, else `['RS256', 'PS256', 'ES256', 'EdDSA']`
   */
  algorithms?: readonly JwtAlgorithm[] | undefined;
  /** Tolerance for `exp`, `nbf` and `iat`. @defaultValue 30 */
  clockSkewSec?: number;
}

const ASYMMETRIC_DEFAULT: readonly JwtAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];
/** Three base64url segments; anything else is not worth handing to the verifier. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

type KeyInput = KeyObject | Uint8Array | ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies bearer JWTs with jose: signature, `iss`, `aud`, `exp` (required), `nbf`, and `sub`
 * (required), within the allowed algorithms. `alg: none` is never accepted: jose refuses unsecured
 * tokens in `jwtVerify`, and `none` cannot be configured.
 *
 * @example
 * const jwt = new JwtVerifier({ issuer: 'https://id.example', audience: 'orders', key: { kind: 'jwks', url } });
 * const identity = await jwt.verify(token);
 */
export class JwtVerifier {
  private readonly key: KeyInput;
  readonly algorithms: readonly JwtAlgorithm[];
  private readonly clockSkewSec: number;

  constructor(private readonly options: JwtVerifierOptions) {
    const symmetric = options.key.kind === 'secret';
    this.algorithms = options.algorithms ?? (symmetric ? ['HS256'] : ASYMMETRIC_DEFAULT);
    const wrong = this.algorithms.filter((a) => a.startsWith('HS') !== symmetric);
    if (wrong.length > 0) {
      throw new ConfigError(
        `REPLYGATE_JWT_ALGORITHMS (--jwt-algorithms): ${wrong.join(', ')} cannot be used with ` +
          (symmetric ? 'a secret (use HS256/384/512)' : 'a public key or JWKS (HS* needs REPLYGATE_JWT_SECRET_FILE)'),
      );
    }
    this.clockSkewSec = options.clockSkewSec ?? 30;
    this.key = toKeyInput(options.key);
  }

  /** Verify a compact JWS; throws {@link UnauthenticatedError} (401), or {@link UnavailableError} when the JWKS is unreachable. */
  async verify(token: string): Promise<CallerIdentity> {
    if (!JWS_COMPACT.test(token)) throw new UnauthenticatedError('invalid', 'The bearer token is not a JWT');
    let result: JWTVerifyResult<JWTPayload>;
    try {
      const verifyOptions = {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...this.algorithms],
        clockTolerance: this.clockSkewSec,
        requiredClaims: ['exp', 'sub'],
      };
      result =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, verifyOptions)
          : await jwtVerify(token, this.key, verifyOptions);
    } catch (err) {
      throw this.failure(err);
    }
    const { payload, protectedHeader } = result;
    const sub = payload.sub as string;
    const iss = payload.iss as string;
    return {
      subject: sub,
      ...(protectedHeader.kid !== undefined ? { keyId: protectedHeader.kid } : {}),
      scopes: scopesOf(payload),
      method: 'jwt',
      principal: principalOf('jwt', iss, sub),
    };
  }

  private failure(err: unknown): Error {
    if (err instanceof errors.JWTExpired) {
      return new UnauthenticatedError('expired', 'The token has expired', { cause: err });
    }
    if (err instanceof errors.JWKSTimeout) {
      return new UnavailableError('the JWT issuer key set (REPLYGATE_JWT_JWKS_URL) did not answer in time', {
        cause: err,
      });
    }
    // TypeError: jose refusing a key for the token's algorithm, e.g. an HMAC check with a public key.
    if (err instanceof errors.JOSEError || err instanceof TypeError || this.options.key.kind !== 'jwks') {
      return new UnauthenticatedError('invalid', 'The token is not valid', { cause: err });
    }
    return new UnavailableError('the JWT issuer key set (REPLYGATE_JWT_JWKS_URL) is unreachable', { cause: err });
  }
}

/** Scopes from `scope` (space-separated, RFC 8693) and `scp` (array or string). */
export function scopesOf(payload: JWTPayload): string[] {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string') for (const s of v.split(' ')) if (s !== '') out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string' && s !== '') out.add(s);
  };
  add(payload['scope']);
  add(payload['scp']);
  return [...out];
}

function toKeyInput(source: JwtKeySource): KeyInput {
  switch (source.kind) {
    case 'jwks':
      return createRemoteJWKSet(source.url);
    case 'secret':
      if (source.secret.length < 32) {
        throw new ConfigError('REPLYGATE_JWT_SECRET_FILE (--jwt-secret-file): the secret must be at least 32 bytes');
      }
      return source.secret;
    case 'publicKey':
      // A private key would work (Node derives the public half) but must not sit where public keys go.
      if (/PRIVATE KEY-----/.test(source.pem)) {
        throw new ConfigError(
          'REPLYGATE_JWT_PUBLIC_KEY_FILE (--jwt-public-key-file): holds a private key; give the public key or certificate',
        );
      }
      try {
        return createPublicKey(source.pem);
      } catch (cause) {
        throw new ConfigError(
          `REPLYGATE_JWT_PUBLIC_KEY_FILE (--jwt-public-key-file): not a PEM public key or certificate: ${(cause as Error).message}`,
          [],
          { cause },
        );
      }
  }
}
