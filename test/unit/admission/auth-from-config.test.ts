import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { exportSPKI, generateKeyPair } from 'jose';
import { authFromConfig, type AuthSettings } from '../../../src/admission/auth/auth-from-config';
import { parseRoutes } from '../../../src/config/routes-file';
import { ConfigError } from '../../../src/errors/startup-errors';

const NONE: AuthSettings = {
  apiKeysFile: undefined,
  jwtIssuer: undefined,
  jwtAudience: undefined,
  jwtJwksUrl: undefined,
  jwtPublicKeyFile: undefined,
  jwtSecretFile: undefined,
  jwtAlgorithms: undefined,
  jwtClockSkewSec: 30,
};

const routes = (auth: string) =>
  parseRoutes(`routes:\n  - { name: r, method: GET, path: /r, topic: t, auth: ${auth} }`, {
    timeoutMs: 1000,
    maxBodyBytes: 1024,
    forwardHeaders: [],
  });

describe('authFromConfig', () => {
  it('needs nothing for anonymous routes', () => {
    expect(authFromConfig(NONE, routes('none'))).to.deep.equal({});
  });

  it('names the missing setting when a route needs it', () => {
    expect(() => authFromConfig(NONE, routes('apiKey'))).to.throw(ConfigError, /REPLYGATE_API_KEYS_FILE.*route r/);
    expect(() => authFromConfig(NONE, routes('jwt'))).to.throw(ConfigError, /REPLYGATE_JWT_ISSUER/);
    const partial = { ...NONE, jwtIssuer: 'https://i', jwtAudience: 'a' };
    expect(() => authFromConfig(partial, routes('jwt'))).to.throw(ConfigError, /set exactly one/);
    expect(() => authFromConfig({ ...partial, jwtJwksUrl: 'http://idp.example/jwks' }, routes('jwt'))).to.throw(
      ConfigError,
      /must be https/,
    );
  });

  it('builds a JWT verifier from a public key file, or a loopback JWKS URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replygate-auth-'));
    const pem = join(dir, 'public.pem');
    writeFileSync(pem, await exportSPKI((await generateKeyPair('ES256')).publicKey));
    const base = { ...NONE, jwtIssuer: 'https://i', jwtAudience: 'a' };
    expect(authFromConfig({ ...base, jwtPublicKeyFile: pem }, routes('jwt')).jwt?.algorithms).to.include('ES256');
    expect(authFromConfig({ ...base, jwtJwksUrl: 'http://127.0.0.1:1/jwks' }, routes('jwt')).jwt).to.not.equal(
      undefined,
    );
  });
});
