import { expect } from 'chai';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { parseRoutes } from '../../../src/config/routes-file';
import { ConfigError } from '../../../src/errors/startup-errors';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: ['accept'] };

function refused(yaml: string, defaults = {}): string {
  try {
    parseRoutes(yaml, { ...DEFAULTS, ...defaults });
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('routes file: security fields', () => {
  it('defaults to no auth, no scopes, no rate limit, no CORS', () => {
    const [r] = parseRoutes('routes:\n  - { method: GET, path: /a, topic: t }', DEFAULTS);
    expect(r).to.deep.include({ auth: 'none', scopes: [], rateLimit: undefined });
    expect(r?.cors).to.equal(undefined);
  });

  it('takes auth and the rate limit from the gateway defaults unless the route sets them', () => {
    const routes = parseRoutes(
      `
routes:
  - { method: GET, path: /a, topic: t }
  - { method: GET, path: /b, topic: t, auth: none, rateLimit: false }
  - { method: GET, path: /c, topic: t, auth: apiKey, scopes: [orders:read], rateLimit: { points: 5, durationSec: 1 } }
`,
      { ...DEFAULTS, authDefault: 'jwt', rateLimitPoints: 100, rateLimitDurationSec: 60 },
    );
    expect(routes.map((r) => [r.auth, r.scopes, r.rateLimit])).to.deep.equal([
      ['jwt', [], { points: 100, durationSec: 60 }],
      ['none', [], undefined],
      ['apiKey', ['orders:read'], { points: 5, durationSec: 1 }],
    ]);
  });

  it('refuses to forward gateway-reserved headers (a forged identity must never reach a service)', () => {
    for (const h of ['rg-auth-subject', 'RG-Auth-Scopes', 'rg-correlation-id', 'x-replygate-user']) {
      expect(refused(`routes:\n  - { method: GET, path: /a, topic: t, forwardHeaders: [${h}] }`)).to.match(
        /routes\.0\.forwardHeaders\.0: rg-\* and x-replygate-\*/,
      );
    }
    expect(() =>
      loadGatewayConfig({ REPLYGATE_ROLE: 'relay', REPLYGATE_FORWARD_HEADERS: 'accept,rg-auth-subject' }),
    ).to.throw(ConfigError, /REPLYGATE_FORWARD_HEADERS \(--forward-headers\): rg-\*/);
    // Even a default list that slipped through is filtered.
    const [r] = parseRoutes('routes:\n  - { method: GET, path: /a, topic: t }', {
      ...DEFAULTS,
      forwardHeaders: ['accept', 'rg-auth-subject', 'x-replygate-x'],
    });
    expect(r?.forwardHeaders).to.deep.equal(['accept']);
  });

  it('refuses scopes without auth, bad scopes, bad limits and CORS credentials with *', () => {
    expect(refused('routes:\n  - { method: GET, path: /a, topic: t, scopes: [a] }')).to.match(
      /routes\.0\.scopes: need auth/,
    );
    expect(refused('routes:\n  - { method: GET, path: /a, topic: t, auth: jwt, scopes: ["a b"] }')).to.match(
      /scopes\.0/,
    );
    expect(refused('routes:\n  - { method: GET, path: /a, topic: t, auth: oauth }')).to.match(/routes\.0\.auth/);
    expect(
      refused('routes:\n  - { method: GET, path: /a, topic: t, rateLimit: { points: 0, durationSec: 1 } }'),
    ).to.match(/rateLimit/);
    expect(
      refused('routes:\n  - { method: GET, path: /a, topic: t, rateLimit: { points: 1, durationSec: 0 } }'),
    ).to.match(/rateLimit/);
    expect(
      refused('routes:\n  - { method: GET, path: /a, topic: t, cors: { origins: ["*"], credentials: true } }'),
    ).to.match(/cors\.credentials: credentials: true needs explicit origins/);
    expect(
      refused('routes:\n  - { method: GET, path: /a, topic: t, cors: { origins: ["https://a.test/path"] } }'),
    ).to.match(/cors\.origins\.0/);
  });
});

describe('gateway settings: hardening', () => {
  const load = (env: Record<string, string>) => loadGatewayConfig({ REPLYGATE_ROLE: 'relay', ...env });

  it('has safe defaults', () => {
    const c = load({});
    expect(c).to.deep.include({
      authDefault: 'none',
      trustProxy: false,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      rateLimitPoints: 0,
      jwtClockSkewSec: 30,
    });
    expect(c.jwtAlgorithms).to.equal(undefined);
  });

  it('parses trust proxy as boolean, hop count or address list', () => {
    expect(load({ REPLYGATE_TRUST_PROXY: 'true' }).trustProxy).to.equal(true);
    expect(load({ REPLYGATE_TRUST_PROXY: '2' }).trustProxy).to.equal(2);
    expect(load({ REPLYGATE_TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).to.deep.equal([
      'loopback',
      '10.0.0.0/8',
    ]);
  });

  it('never accepts alg none', () => {
    expect(load({ REPLYGATE_JWT_ALGORITHMS: 'RS256, ES256' }).jwtAlgorithms).to.deep.equal(['RS256', 'ES256']);
    expect(() => load({ REPLYGATE_JWT_ALGORITHMS: 'RS256,none' })).to.throw(ConfigError, /REPLYGATE_JWT_ALGORITHMS/);
  });
});
