import { ForbiddenError, UnauthenticatedError } from '../../errors/auth-errors';
import type { CallerIdentity } from '../../protocol/caller-identity';
import type { AdmissionContext, RequestStage } from '../admission-context';
import type { ApiKeyVerifier } from './api-key-verifier';
import { readCredential } from './credentials';
import type { JwtVerifier } from './jwt-verifier';

/** The verifiers an {@link createAuthStage auth stage} uses; each only if some route needs it. */
export interface AuthStageOptions {
  apiKeys?: ApiKeyVerifier | undefined;
  jwt?: JwtVerifier | undefined;
  /** Realm named in `WWW-Authenticate`. @defaultValue `replygate` */
  realm?: string;
}

/**
 * The authentication stage: for a route with `auth: apiKey` or `auth: jwt`, verify the caller's
 * credential, put the identity in `ctx.identity`, and check the route's `scopes` and the API key's
 * route list. Answers 401 `RG_UNAUTHENTICATED` with a `WWW-Authenticate` challenge (RFC 6750),
 * or 403 `RG_FORBIDDEN`. Routes with `auth: none` pass untouched, and anonymous.
 *
 * @example
 * const stages = [createAuthStage({ apiKeys: new ApiKeyVerifier(FileApiKeyStore.load(file)) })];
 */
export function createAuthStage(options: AuthStageOptions): RequestStage {
  const realm = options.realm ?? 'replygate';
  return async function authStage(ctx: AdmissionContext): Promise<void> {
    const { route } = ctx;
    if (route.auth === 'none') return;
    let identity: CallerIdentity;
    try {
      identity = await authenticate(ctx, options);
    } catch (err) {
      if (err instanceof UnauthenticatedError) ctx.setHeader('www-authenticate', challenge(realm, err));
      throw err;
    }
    const missing = route.scopes.filter((s) => !identity.scopes.includes(s));
    if (missing.length > 0) {
      ctx.setHeader(
        'www-authenticate',
        `Bearer realm="${realm}", error="insufficient_scope", scope="${route.scopes.join(' ')}"`,
      );
      throw new ForbiddenError(`This route needs the scopes: ${route.scopes.join(' ')}`, missing);
    }
    ctx.identity = identity;
  };
}

async function authenticate(ctx: AdmissionContext, options: AuthStageOptions): Promise<CallerIdentity> {
  const { route } = ctx;
  const credential = readCredential(ctx.headers);
  if (credential === undefined) {
    throw new UnauthenticatedError(
      'missing',
      route.auth === 'jwt' ? 'This route needs a bearer token' : 'This route needs an API key',
    );
  }
  if (route.auth === 'jwt') {
    if (credential.kind !== 'bearer') {
      throw new UnauthenticatedError('malformed', 'This route takes a bearer JWT in Authorization, not X-API-Key');
    }
    // Only a route reloaded at run time can get here (start-up refuses it): fail closed, 500 and logged.
    if (options.jwt === undefined) throw new Error(`route ${route.name} uses auth: jwt but REPLYGATE_JWT_* is not set`);
    return options.jwt.verify(credential.value);
  }
  if (options.apiKeys === undefined) {
    throw new Error(`route ${route.name} uses auth: apiKey but REPLYGATE_API_KEYS_FILE is not set`);
  }
  const verified = await options.apiKeys.verify(credential.value);
  if (verified.routes !== undefined && !verified.routes.includes(route.name)) {
    throw new ForbiddenError('This API key is not allowed on this route');
  }
  return verified.identity;
}

/** RFC 6750 §3: no error code when no credential was sent; `invalid_request` or `invalid_token` otherwise. */
function challenge(realm: string, err: UnauthenticatedError): string {
  if (err.reason === 'missing') return `Bearer realm="${realm}"`;
  const code = err.reason === 'malformed' ? 'invalid_request' : 'invalid_token';
  return `Bearer realm="${realm}", error="${code}", error_description="${err.message.replace(/"/g, "'")}"`;
}
