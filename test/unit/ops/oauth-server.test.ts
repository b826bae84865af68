import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const SERVER = resolve(__dirname, '../../../scripts/oauth-server.mjs');
const APP_SECRET = 'app-secret-4f1c9e';
// Characters RFC 6749 §2.3.1 makes a client form-encode before the Base64 of HTTP Basic.
const ODD_ID = 'odd client:1';
const ODD_SECRET = 'p:w%+&=';

interface Started {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts scripts/oauth-server.mjs as stack.sh does (flags, any free port); resolves on its "listening" line. */
function startServer(dir: string, extra: string[] = []): Promise<Started> {
  const proc = spawn(
    process.execPath,
    [SERVER, '--clients', join(dir, 'clients.json'), '--key', join(dir, 'signing-key.pem'), '--port', '0', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  return new Promise((resolveStart, reject) => {
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (line) resolveStart({ proc, url: (JSON.parse(line) as { url: string }).url, output: () => out });
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`oauth-server exited (${code}): ${out}`)));
  });
}

function stop(s: Started | undefined): Promise<void> {
  if (!s || s.proc.exitCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    s.proc.removeAllListeners('exit');
    s.proc.once('exit', () => ok());
    s.proc.kill('SIGTERM');
  });
}

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function token(
  url: string,
  form: Record<string, string>,
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (authorization) headers['authorization'] = authorization;
  const res = await fetch(`${url}/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('scripts/oauth-server.mjs (the token endpoint of OAUTHBEARER stacks)', () => {
  let dir: string;
  let server: Started | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'replygate-oauth-'));
    writeFileSync(join(dir, 'replygate.oauth-secret'), `${APP_SECRET}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'clients.json'),
      JSON.stringify({
        clients: { replygate: { secretFile: join(dir, 'replygate.oauth-secret') }, [ODD_ID]: { secret: ODD_SECRET } },
      }),
    );
    server = await startServer(dir, ['--lifetime', '42', '--audience', 'kafka']);
  });

  after(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes its issuer, token endpoint and JWKS in the discovery document', async () => {
    const doc = (await (await fetch(`${server!.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc).to.include({
      issuer: server!.url,
      token_endpoint: `${server!.url}/token`,
      jwks_uri: `${server!.url}/jwks`,
    });
    const jwks = (await (await fetch(`${server!.url}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).to.have.length(1);
    expect(jwks.keys[0]).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).to.have.property('kid').that.is.a('string');
    expect(jwks.keys[0]).to.not.have.any.keys('d', 'p', 'q', 'dp', 'dq', 'qi');
  });

  it('issues an RS256 JWT for HTTP Basic client credentials: sub, iss, aud, scope, exp - iat = lifetime, kid', async () => {
    const { status, body, headers } = await token(
      server!.url,
      { grant_type: 'client_credentials' },
      basic('replygate', APP_SECRET),
    );
    expect(status).to.equal(200);
    expect(headers.get('cache-control')).to.equal('no-store');
    expect(body).to.include({ token_type: 'Bearer', expires_in: 42, scope: 'kafka' });
    const jwt = body['access_token'] as string;
    const { payload, protectedHeader } = await jwtVerify(jwt, createRemoteJWKSet(new URL(`${server!.url}/jwks`)), {
      issuer: server!.url,
      audience: 'kafka',
      algorithms: ['RS256'],
    });
    expect(payload).to.include({ sub: 'replygate', scope: 'kafka' });
    expect(payload.exp! - payload.iat!).to.equal(42);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).to.be.lessThan(5);
    const jwks = (await (await fetch(`${server!.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(protectedHeader.kid).to.equal(jwks.keys[0]!.kid);
  });

  it('takes the credentials in the form body too (client_secret_post) and puts the asked scope in the token', async () => {
    const { status, body } = await token(server!.url, {
      grant_type: 'client_credentials',
      client_id: 'replygate',
      client_secret: APP_SECRET,
      scope: 'kafka.read kafka.write',
    });
    expect(status).to.equal(200);
    expect(body['scope']).to.equal('kafka.read kafka.write');
    const claims = JSON.parse(Buffer.from((body['access_token'] as string).split('.')[1]!, 'base64url').toString());
    expect(claims).to.include({ sub: 'replygate', scope: 'kafka.read kafka.write' });
    expect(decodeProtectedHeader(body['access_token'] as string).alg).to.equal('RS256');
  });

  it('form-decodes Basic credentials (RFC 6749 §2.3.1): ids and secrets with ":", "%", "+" work', async () => {
    const { status, body } = await token(server!.url, { grant_type: 'client_credentials' }, basic(ODD_ID, ODD_SECRET));
    expect(status, JSON.stringify(body)).to.equal(200);
  });

  it('refuses a wrong secret or an unknown client with 401 invalid_client, and bad requests with 400', async () => {
    const wrongBasic = await token(server!.url, { grant_type: 'client_credentials' }, basic('replygate', 'nope'));
    expect(wrongBasic.status).to.equal(401);
    expect(wrongBasic.body).to.deep.equal({ error: 'invalid_client' });
    expect(wrongBasic.headers.get('www-authenticate')).to.match(/^Basic /);
    const wrongPost = await token(server!.url, {
      grant_type: 'client_credentials',
      client_id: 'replygate',
      client_secret: `${APP_SECRET}x`,
    });
    expect(wrongPost.status).to.equal(401);
    expect(wrongPost.body).to.deep.equal({ error: 'invalid_client' });
    const unknown = await token(server!.url, { grant_type: 'client_credentials' }, basic('nobody', APP_SECRET));
    expect(unknown.status).to.equal(401);
    const both = await token(
      server!.url,
      { grant_type: 'client_credentials', client_secret: APP_SECRET },
      basic('replygate', APP_SECRET),
    );
    expect(both.status).to.equal(400);
    expect(both.body['error']).to.equal('invalid_request');
    const grant = await token(server!.url, { grant_type: 'password' }, basic('replygate', APP_SECRET));
    expect(grant.status).to.equal(400);
    expect(grant.body['error']).to.equal('unsupported_grant_type');
    const noGrant = await token(server!.url, {}, basic('replygate', APP_SECRET));
    expect(noGrant.body['error']).to.equal('invalid_request');
  });

  it('counts tokens issued per client and refusals on GET /stats', async () => {
    const before = (await (await fetch(`${server!.url}/stats`)).json()) as {
      tokensIssued: number;
      issuedByClient: Record<string, number>;
      refused: number;
    };
    await token(server!.url, { grant_type: 'client_credentials' }, basic('replygate', APP_SECRET));
    await token(server!.url, { grant_type: 'client_credentials' }, basic('replygate', 'nope'));
    const after = (await (await fetch(`${server!.url}/stats`)).json()) as typeof before;
    expect(after.tokensIssued).to.equal(before.tokensIssued + 1);
    expect(after.issuedByClient['replygate']).to.equal((before.issuedByClient['replygate'] ?? 0) + 1);
    expect(after.refused).to.equal(before.refused + 1);
  });

  it('never writes a secret or a token to its output', async () => {
    const { body } = await token(server!.url, { grant_type: 'client_credentials' }, basic('replygate', APP_SECRET));
    const out = server!.output();
    expect(out).to.include('token issued');
    expect(out).to.not.include(APP_SECRET);
    expect(out).to.not.include(ODD_SECRET);
    expect(out).to.not.include(body['access_token'] as string);
  });

  it('keeps its signing key (mode 600) across restarts: the same kid validates earlier tokens', async () => {
    const kid = async (url: string): Promise<string> =>
      ((await (await fetch(`${url}/jwks`)).json()) as { keys: { kid: string }[] }).keys[0]!.kid;
    const first = await kid(server!.url);
    expect(statSync(join(dir, 'signing-key.pem')).mode & 0o777).to.equal(0o600);
    await stop(server);
    server = await startServer(dir);
    expect(await kid(server.url)).to.equal(first);
  });
});
