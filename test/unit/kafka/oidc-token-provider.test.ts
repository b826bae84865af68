import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { createOidcTokenProvider, OauthTokenError } from '../../../src/kafka/oidc-token-provider';

const SECRET = 's3cr3t/with:odd&chars';

interface Endpoint {
  url: string;
  requests: { authorization: string | undefined; body: string }[];
  answer: (n: number) => { status: number; body: unknown; delayMs?: number };
  close: () => Promise<void>;
}

/** A real token endpoint on a free port; `answer` decides each reply. */
async function tokenEndpoint(): Promise<Endpoint> {
  const ep: Partial<Endpoint> = { requests: [] };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      ep.requests!.push({ authorization: req.headers.authorization, body });
      const a = ep.answer!(ep.requests!.length);
      setTimeout(() => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      }, a.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  ep.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  ep.answer = (n) => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: 100 } });
  ep.close = () => new Promise<void>((r) => server.close(() => r()));
  return ep as Endpoint;
}

function capture(): { log: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'trace' }, sink), text: () => lines.join('') };
}

describe('createOidcTokenProvider (client credentials)', () => {
  let ep: Endpoint;
  beforeEach(async () => {
    ep = await tokenEndpoint();
  });
  afterEach(() => ep.close());

  it('asks with HTTP Basic client auth and the scope, and returns the access token', async () => {
    const { log } = capture();
    const provider = createOidcTokenProvider(
      { tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET, scope: 'kafka' },
      log,
    );
    expect(await provider()).to.deep.equal({ value: 'token-1' });
    const { authorization, body } = ep.requests[0]!;
    const [id, secret] = Buffer.from(authorization!.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    expect(decodeURIComponent(id!)).to.equal('gw');
    expect(decodeURIComponent(secret!)).to.equal(SECRET);
    expect(new URLSearchParams(body).get('grant_type')).to.equal('client_credentials');
    expect(new URLSearchParams(body).get('scope')).to.equal('kafka');
    expect(new URLSearchParams(body).get('client_secret')).to.equal(null);
  });

  it('shares one token across calls and one fetch across concurrent calls, and refreshes before expiry', async () => {
    let now = 1_000_000;
    ep.answer = (n) => ({ status: 200, body: { access_token: `token-${n}`, expires_in: 100 }, delayMs: 50 });
    const provider = createOidcTokenProvider(
      { tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET },
      capture().log,
      {
        now: () => now,
      },
    );
    const first = await Promise.all([provider(), provider(), provider()]);
    expect(first.map((t) => t.value)).to.deep.equal(['token-1', 'token-1', 'token-1']);
    expect(ep.requests).to.have.length(1);
    now += 79_000; // 79 % of the 100 s lifetime
    expect((await provider()).value).to.equal('token-1');
    now += 2_000; // past 80 %: refreshed while the old token is still valid
    expect((await provider()).value).to.equal('token-2');
    expect(ep.requests).to.have.length(2);
  });

  it('replaces a short-lived token before kafkajs re-authenticates with it (less than 15 s left)', async () => {
    let now = 2_000_000;
    ep.answer = (n) => ({ status: 200, body: { access_token: `token-${n}`, expires_in: 16 } });
    const provider = createOidcTokenProvider(
      { tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET },
      capture().log,
      {
        now: () => now,
      },
    );
    expect((await provider()).value).to.equal('token-1');
    now += 500;
    expect((await provider()).value).to.equal('token-1');
    // kafkajs re-authenticates with 10 s of the 16 s session left: it must get a new token, not one
    // with 10 s left (every request would then re-authenticate, and the broker refuse it)
    now += 5_500;
    expect((await provider()).value).to.equal('token-2');
    // a 60 s token: replaced with 15 s left (at 45 s), before 80 % of it (48 s)
    ep.answer = (n) => ({ status: 200, body: { access_token: `token-${n}`, expires_in: 60 } });
    now += 20_000;
    expect((await provider()).value).to.equal('token-3');
    now += 44_000;
    expect((await provider()).value).to.equal('token-3');
    now += 2_000;
    expect((await provider()).value).to.equal('token-4');
  });

  it('keeps using a still-valid token when a refresh fails, and fails once it has expired', async () => {
    let now = 5_000_000;
    const { log, text } = capture();
    const provider = createOidcTokenProvider({ tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET }, log, {
      now: () => now,
    });
    await provider();
    ep.answer = () => ({ status: 503, body: { error: 'temporarily_unavailable' } });
    now += 90_000;
    expect((await provider()).value).to.equal('token-1');
    expect(text()).to.contain('refresh failed');
    now += 20_000; // expired
    const err = await provider().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(OauthTokenError);
  });

  it('names the setting, the URL, the status and the provider error on a refusal, never the secret', async () => {
    ep.answer = () => ({ status: 401, body: { error: 'invalid_client', error_description: 'bad client credentials' } });
    const { log, text } = capture();
    const provider = createOidcTokenProvider({ tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET }, log);
    const err = (await provider().then(
      () => undefined,
      (e: unknown) => e,
    )) as OauthTokenError;
    expect(err).to.be.instanceOf(OauthTokenError);
    expect(err.code).to.equal('RG_KAFKA_OAUTH_TOKEN');
    expect(err.message)
      .to.contain(`KAFKA_OAUTH_TOKEN_URL ${ep.url}`)
      .and.to.contain('HTTP 401 invalid_client: bad client credentials')
      .and.to.contain('KAFKA_OAUTH_CLIENT_ID');
    expect(`${err.message}${text()}`).not.to.contain(SECRET);
  });

  it('says when the endpoint cannot be reached', async () => {
    await ep.close();
    const provider = createOidcTokenProvider({ tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET }, capture().log);
    const err = (await provider().then(
      () => undefined,
      (e: unknown) => e,
    )) as OauthTokenError;
    expect(err.message).to.contain('not reachable').and.to.contain('ECONNREFUSED');
    ep = await tokenEndpoint(); // for afterEach
  });

  it('takes the lifetime from the JWT exp when the endpoint gives no expires_in', async () => {
    let now = Date.UTC(2026, 0, 1);
    const exp = Math.floor(now / 1000) + 10;
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
    ep.answer = (n) => ({ status: 200, body: { access_token: n === 1 ? jwt : 'second' } });
    const provider = createOidcTokenProvider(
      { tokenUrl: ep.url, clientId: 'gw', clientSecret: SECRET },
      capture().log,
      {
        now: () => now,
      },
    );
    expect((await provider()).value).to.equal(jwt);
    now += 8_500; // past 80 % of 10 s
    expect((await provider()).value).to.equal('second');
  });
});
