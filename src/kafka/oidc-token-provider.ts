import type { Logger } from '../observability/logger';
import { ReplygateError } from '../errors/replygate-error';

/** An OAUTHBEARER token as kafkajs wants it. */
export interface OauthBearerToken {
  value: string;
}

/** What kafkajs calls before each SASL/OAUTHBEARER authentication (and re-authentication). */
export type OauthBearerProvider = () => Promise<OauthBearerToken>;

/** The client-credentials grant (RFC 6749 §4.4) at an OIDC provider's token endpoint. */
export interface OidcClientCredentials {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes, sent only when given. */
  scope?: string;
}

/** Options of {@link createOidcTokenProvider}. */
export interface OidcTokenProviderOptions {
  /**
   * Fetch a new token once this share of its lifetime has passed, or once less than
   * {@link OAUTH_REAUTH_WINDOW_MS} of it is left if that comes first. @defaultValue 0.8
   */
  refreshAt?: number;
  /** Longest wait for the token endpoint. @defaultValue 10000 */
  fetchTimeoutMs?: number;
  /** The setting named in errors. @defaultValue `KAFKA_OAUTH_TOKEN_URL` */
  setting?: string;
  now?: () => number;
}

/** The token endpoint refused or failed; the message names the setting, the status and the provider's error code. */
export class OauthTokenError extends ReplygateError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super('RG_KAFKA_OAUTH_TOKEN', message, options);
  }
}

/** Lifetime when the endpoint states none and the token is no JWT with an `exp`. */
const FALLBACK_LIFETIME_MS = 60_000;

/**
 * A token is replaced once it has less than this left, whatever `refreshAt` says. kafkajs
 * re-authenticates a connection when less than 10 s of its session remain
 * (`reauthenticationThreshold`), and the broker ends the session at the token's `exp`: handed a
 * token with 10 s or less left, the connection re-authenticates at every request and the broker
 * refuses it (ILLEGAL_SASL_STATE), so requests fail. 10 s plus a margin.
 */
export const OAUTH_REAUTH_WINDOW_MS = 15_000;

/**
 * The built-in OAUTHBEARER token source: client credentials sent with HTTP Basic (the scheme
 * RFC 6749 §2.3.1 obliges every token endpoint to accept), one token cached and shared by every
 * connection, a new one fetched once `refreshAt` of its lifetime has passed (so a re-authenticating
 * connection never presents an expired token), one fetch at a time. If a refresh fails while the
 * cached token is still valid, that token is used and the failure logged. The secret never appears
 * in an error or a log line; the token only in what kafkajs sends to the broker.
 */
export function createOidcTokenProvider(
  credentials: OidcClientCredentials,
  log: Logger,
  options: OidcTokenProviderOptions = {},
): OauthBearerProvider {
  const refreshAt = options.refreshAt ?? 0.8;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 10_000;
  const setting = options.setting ?? 'KAFKA_OAUTH_TOKEN_URL';
  const now = options.now ?? Date.now;
  let cached: { value: string; refreshAfter: number; expiresAt: number } | undefined;
  let inFlight: Promise<OauthBearerToken> | undefined;

  const fetchToken = async (): Promise<OauthBearerToken> => {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (credentials.scope !== undefined) body.set('scope', credentials.scope);
    const basic = Buffer.from(
      `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
    ).toString('base64');
    const started = now();
    let response: Response;
    try {
      response = await fetch(credentials.tokenUrl, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(fetchTimeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new OauthTokenError(`${setting} ${credentials.tokenUrl}: token endpoint not reachable (${cause})`, {
        cause: err,
        retriable: true,
      });
    }
    const text = await response.text().catch(() => '');
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // described below
    }
    if (!response.ok || typeof json['access_token'] !== 'string') {
      const code = typeof json['error'] === 'string' ? json['error'] : undefined;
      const detail = typeof json['error_description'] === 'string' ? json['error_description'] : undefined;
      const what = response.ok ? 'answer has no access_token' : `HTTP ${response.status}`;
      const hint =
        code === 'invalid_client' || response.status === 401
          ? ' (check KAFKA_OAUTH_CLIENT_ID and the client secret)'
          : code === 'invalid_scope'
            ? ' (check KAFKA_OAUTH_SCOPE)'
            : '';
      throw new OauthTokenError(
        `${setting} ${credentials.tokenUrl}: token refused: ${what}${code ? ` ${code}` : ''}${detail ? `: ${detail.slice(0, 200)}` : ''}${hint}`,
        { retriable: response.status >= 500 || response.status === 429 },
      );
    }
    const value = json['access_token'];
    const lifetimeMs = tokenLifetimeMs(json['expires_in'], value, started);
    const refreshInMs = Math.min(lifetimeMs * refreshAt, lifetimeMs - OAUTH_REAUTH_WINDOW_MS);
    cached = { value, refreshAfter: started + refreshInMs, expiresAt: started + lifetimeMs };
    log.debug({ tokenUrl: credentials.tokenUrl, lifetimeMs }, 'fetched an OAUTHBEARER token');
    return { value };
  };

  return async () => {
    const t = now();
    if (cached !== undefined && t < cached.refreshAfter) return { value: cached.value };
    inFlight ??= fetchToken().finally(() => {
      inFlight = undefined;
    });
    try {
      return await inFlight;
    } catch (err) {
      if (cached !== undefined && now() < cached.expiresAt) {
        log.warn(
          { err: (err as Error).message },
          'OAUTHBEARER token refresh failed; using the current token until it expires',
        );
        return { value: cached.value };
      }
      throw err;
    }
  };
}

/** `expires_in` (seconds) if the endpoint gave it, else the JWT's `exp`, else a minute. */
function tokenLifetimeMs(expiresIn: unknown, token: string, issuedAt: number): number {
  const seconds = typeof expiresIn === 'string' ? Number(expiresIn) : expiresIn;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0) return seconds * 1000;
  const payload = token.split('.')[1];
  if (payload !== undefined) {
    try {
      const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
      if (typeof exp === 'number' && exp * 1000 > issuedAt) return exp * 1000 - issuedAt;
    } catch {
      // not a JWT
    }
  }
  return FALLBACK_LIFETIME_MS;
}
