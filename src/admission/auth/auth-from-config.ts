import { readFileSync } from 'node:fs';
import type { GatewayConfig } from '../../config/gateway-config';
import type { RouteDefinition } from '../../config/routes-file';
import { ConfigError } from '../../errors/startup-errors';
import { ApiKeyVerifier } from './api-key-verifier';
import type { AuthStageOptions } from './auth-stage';
import { FileApiKeyStore } from './file-api-key-store';
import { JwtVerifier, type JwtKeySource } from './jwt-verifier';

/** The settings authentication reads. */
export type AuthSettings = Pick<
  GatewayConfig,
  | 'apiKeysFile'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'jwtJwksUrl'
  | 'jwtPublicKeyFile'
  | 'jwtSecretFile'
  | 'jwtAlgorithms'
  | 'jwtClockSkewSec'
>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Build the verifiers the routes need from the settings, at start-up: the API keys file is read
 * and validated, the JWT key parsed. Throws {@link ConfigError} naming the setting when a route
 * needs something that is not configured.
 */
export function authFromConfig(settings: AuthSettings, routes: readonly RouteDefinition[]): AuthStageOptions {
  const needs = (method: 'apiKey' | 'jwt') => routes.find((r) => r.auth === method);
  const out: AuthStageOptions = {};
  const apiKeyRoute = needs('apiKey');
  if (settings.apiKeysFile !== undefined) {
    out.apiKeys = new ApiKeyVerifier(FileApiKeyStore.load(settings.apiKeysFile));
  } else if (apiKeyRoute !== undefined) {
    fail(`REPLYGATE_API_KEYS_FILE (--api-keys-file): required, route ${apiKeyRoute.name} uses auth: apiKey`);
  }
  const jwtRoute = needs('jwt');
  const jwtConfigured = settings.jwtIssuer !== undefined || settings.jwtAudience !== undefined;
  // Built whenever configured, so routes reloaded later with `auth: jwt` find a verifier.
  if (jwtRoute !== undefined || jwtConfigured) {
    const why = jwtRoute !== undefined ? `route ${jwtRoute.name} uses auth: jwt` : 'JWT authentication is configured';
    if (settings.jwtIssuer === undefined) fail(`REPLYGATE_JWT_ISSUER (--jwt-issuer): required, ${why}`);
    if (settings.jwtAudience === undefined) fail(`REPLYGATE_JWT_AUDIENCE (--jwt-audience): required, ${why}`);
    out.jwt = new JwtVerifier({
      issuer: settings.jwtIssuer as string,
      audience: settings.jwtAudience as string,
      key: jwtKeySource(settings, why),
      algorithms: settings.jwtAlgorithms,
      clockSkewSec: settings.jwtClockSkewSec,
    });
  }
  return out;
}

function jwtKeySource(settings: AuthSettings, why: string): JwtKeySource {
  const given = [settings.jwtJwksUrl, settings.jwtPublicKeyFile, settings.jwtSecretFile].filter((v) => v !== undefined);
  if (given.length !== 1) {
    fail(
      'REPLYGATE_JWT_JWKS_URL (--jwt-jwks-url), REPLYGATE_JWT_PUBLIC_KEY_FILE (--jwt-public-key-file), ' +
        `REPLYGATE_JWT_SECRET_FILE (--jwt-secret-file): set exactly one, ${why}`,
    );
  }
  if (settings.jwtJwksUrl !== undefined) {
    const url = new URL(settings.jwtJwksUrl);
    // Keys fetched in clear text could be swapped on the way: https, except on this host.
    if (url.protocol !== 'https:' && !LOOPBACK.has(url.hostname)) {
      fail('REPLYGATE_JWT_JWKS_URL (--jwt-jwks-url): must be https (http only for 127.0.0.1/localhost)');
    }
    return { kind: 'jwks', url };
  }
  if (settings.jwtPublicKeyFile !== undefined) {
    return {
      kind: 'publicKey',
      pem: readSetting(settings.jwtPublicKeyFile, 'REPLYGATE_JWT_PUBLIC_KEY_FILE').toString(),
    };
  }
  // A trailing newline from `echo` or an editor is not part of the secret.
  const secret = readSetting(settings.jwtSecretFile as string, 'REPLYGATE_JWT_SECRET_FILE')
    .toString('utf8')
    .trimEnd();
  return { kind: 'secret', secret: new TextEncoder().encode(secret) };
}

function readSetting(path: string, env: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new ConfigError(`${env}: cannot read ${path}: ${(cause as Error).message}`, [], { cause });
  }
}

function fail(issue: string): never {
  throw new ConfigError(`Invalid configuration:\n  ${issue}`, [issue]);
}
