import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import request, { type Response } from 'supertest';
import { ApiKeyVerifier } from '../../src/admission/auth/api-key-verifier';
import { createAuthStage } from '../../src/admission/auth/auth-stage';
import { FileApiKeyStore } from '../../src/admission/auth/file-api-key-store';
import { hashApiKey } from '../../src/admission/auth/api-key-store';
import { JwtVerifier } from '../../src/admission/auth/jwt-verifier';
import { principalOf } from '../../src/admission/auth/principal';
import { createCorsStage } from '../../src/admission/cors-stage';
import { Redis } from 'ioredis';
import { createRateLimitStage } from '../../src/admission/rate-limit-stage';
import { redisLimiters } from '../../src/admission/route-limiters';
import { buildRequestMessage } from '../../src/kafka/request-message';
import { createHarness, type Harness } from './gateway-harness';

const ISS = 'https://issuer.test';
const AUD = 'replygate';
const ORDERS_KEY = `rgk_${randomBytes(32).toString('base64url')}`;
const OTHER_KEY = `rgk_${randomBytes(32).toString('base64url')}`;
const ANY_ROUTE_KEY = `rgk_${randomBytes(32).toString('base64url')}`;

const ROUTES = `
routes:
  - { name: open, method: GET, path: /open, topic: open, forwardHeaders: [x-request-id] }
  - { name: get-order, method: GET, path: /orders/:id, topic: orders, auth: apiKey, scopes: [orders:read] }
  - { name: write-order, method: PUT, path: /orders/:id, topic: orders, auth: apiKey, scopes: [orders:write] }
  - { name: reports, method: GET, path: /reports, topic: reports, auth: apiKey }
  - { name: me, method: GET, path: /me, topic: me, auth: jwt, scopes: [profile] }
  - { name: limited, method: GET, path: /limited, topic: limited, rateLimit: { points: 2, durationSec: 60 } }
  - { name: limited-keyed, method: GET, path: /limited-keyed, topic: limited, auth: apiKey, rateLimit: { points: 1, durationSec: 60 } }
  - name: browser
    method: POST
    path: /browser/:id
    topic: browser
    auth: jwt
    forwardHeaders: [x-request-id]
    cors: { origins: [https://app.test], credentials: true, maxAgeSec: 120 }
`;

const KEYS = `
keys:
  - { id: orders-reader, hash: ${hashApiKey(ORDERS_KEY)}, subject: shop, scopes: [orders:read], routes: [get-order, limited-keyed] }
  - { id: any-route-reader, hash: ${hashApiKey(ANY_ROUTE_KEY)}, subject: shop, scopes: [orders:read] }
  - { id: reporter, hash: ${hashApiKey(OTHER_KEY)}, subject: bi, scopes: [orders:read, orders:write], routes: [reports] }
`;

function expectProblem(res: Response, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
  expect((res.body as { error: string }).error).to.equal(code);
}

describe('HTTP gateway security (in-process, fake publisher)', () => {
  let h: Harness;
  let privateKey: KeyLike;
  let publicPem: string;

  const jwt = (claims: Record<string, unknown> = {}, opts: { aud?: string; exp?: number } = {}) =>
    new SignJWT({ scope: 'profile', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISS)
      .setAudience(opts.aud ?? AUD)
      .setSubject('alice')
      .setExpirationTime(opts.exp ?? '5m')
      .sign(privateKey);

  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
  });

  beforeEach(() => {
    h = createHarness(ROUTES, {
      stages: [
        createCorsStage(),
        createAuthStage({
          apiKeys: new ApiKeyVerifier(FileApiKeyStore.parse(KEYS)),
          jwt: new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'publicKey', pem: publicPem } }),
        }),
        createRateLimitStage({
          createLimiter: (route, l) =>
            new RateLimiterMemory({ keyPrefix: route.name, points: l.points, duration: l.durationSec }),
        }),
      ],
    });
  });
  afterEach(() => h.registry.cancelAll('test-end'));

  describe('API keys', () => {
    it('lets a valid key in, by X-API-Key or Bearer, and sends the verified identity to the service', async () => {
      await request(h.app).get('/orders/1').set('x-api-key', ORDERS_KEY).expect(200);
      await request(h.app).get('/orders/2').set('authorization', `Bearer ${ORDERS_KEY}`).expect(200);
      expect(h.publisher.published).to.have.length(2);
      expect(h.publisher.published[0]?.identity).to.deep.equal({
        subject: 'shop',
        keyId: 'orders-reader',
        scopes: ['orders:read'],
        method: 'apiKey',
        principal: principalOf('apikey', 'orders-reader'),
      });
    });

    it('answers 401 with a challenge for a missing, unknown or malformed key', async () => {
      const missing = await request(h.app).get('/orders/1');
      expectProblem(missing, 401, 'RG_UNAUTHENTICATED');
      expect(missing.headers['www-authenticate']).to.equal('Bearer realm="replygate"');
      const unknown = await request(h.app).get('/orders/1').set('x-api-key', `${ORDERS_KEY}x`);
      expectProblem(unknown, 401, 'RG_UNAUTHENTICATED');
      expect(unknown.headers['www-authenticate']).to.match(/error="invalid_token"/);
      const basic = await request(h.app).get('/orders/1').set('authorization', 'Basic dXNlcjpwYXNz');
      expectProblem(basic, 401, 'RG_UNAUTHENTICATED');
      expect(basic.headers['www-authenticate']).to.match(/error="invalid_request"/);
      const both = await request(h.app)
        .get('/orders/1')
        .set('x-api-key', ORDERS_KEY)
        .set('authorization', `Bearer ${OTHER_KEY}`);
      expectProblem(both, 401, 'RG_UNAUTHENTICATED');
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 403 for a key limited to other routes, and for a missing scope', async () => {
      expectProblem(await request(h.app).get('/reports').set('x-api-key', ORDERS_KEY), 403, 'RG_FORBIDDEN');
      expectProblem(await request(h.app).get('/orders/1').set('x-api-key', OTHER_KEY), 403, 'RG_FORBIDDEN');
      const scope = await request(h.app).put('/orders/1').set('x-api-key', ANY_ROUTE_KEY).send({});
      expectProblem(scope, 403, 'RG_FORBIDDEN');
      expect(scope.headers['www-authenticate']).to.match(/error="insufficient_scope", scope="orders:write"/);
      await request(h.app).get('/reports').set('x-api-key', OTHER_KEY).expect(200);
      expect(h.publisher.published.map((r) => r.route)).to.deep.equal(['reports']);
    });
  });

  describe('JWT', () => {
    it('lets a valid token in, with its subject and scopes', async () => {
      await request(h.app)
        .get('/me')
        .set('authorization', `Bearer ${await jwt()}`)
        .expect(200);
      expect(h.publisher.published[0]?.identity).to.deep.include({ subject: 'alice', method: 'jwt', keyId: 'k1' });
    });

    it('refuses missing, malformed, expired and wrong-audience tokens with 401', async () => {
      const cases: [string | undefined, RegExp][] = [
        [undefined, /^Bearer realm="replygate"$/],
        ['Bearer', /invalid_request/],
        ['Bearer not.a-jwt', /invalid_token/],
        [`Bearer ${await jwt({}, { exp: Math.floor(Date.now() / 1000) - 600 })}`, /invalid_token/],
        [`Bearer ${await jwt({}, { aud: 'another-api' })}`, /invalid_token/],
      ];
      for (const [header, challenge] of cases) {
        const req = request(h.app).get('/me');
        const res = await (header === undefined ? req : req.set('authorization', header));
        expectProblem(res, 401, 'RG_UNAUTHENTICATED');
        expect(res.headers['www-authenticate'], header).to.match(challenge);
      }
      const expired = await request(h.app)
        .get('/me')
        .set('authorization', `Bearer ${await jwt({}, { exp: Math.floor(Date.now() / 1000) - 600 })}`);
      expect((expired.body as { details: { reason: string } }).details.reason).to.equal('expired');
      expect(h.publisher.published).to.have.length(0);
    });

    it('refuses alg: none and algorithm confusion (HS256 keyed with the RSA public key)', async () => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const claims = { iss: ISS, aud: AUD, sub: 'admin', scope: 'profile', exp: Math.floor(Date.now() / 1000) + 300 };
      const none = `${b64({ alg: 'none' })}.${b64(claims)}.`;
      const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
      const confused = `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      for (const token of [none, confused]) {
        expectProblem(
          await request(h.app).get('/me').set('authorization', `Bearer ${token}`),
          401,
          'RG_UNAUTHENTICATED',
        );
      }
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 403 when the token lacks the route scope, and refuses an API key on a JWT route', async () => {
      expectProblem(
        await request(h.app)
          .get('/me')
          .set('authorization', `Bearer ${await jwt({ scope: 'other' })}`),
        403,
        'RG_FORBIDDEN',
      );
      expectProblem(await request(h.app).get('/me').set('x-api-key', ORDERS_KEY), 401, 'RG_UNAUTHENTICATED');
    });

    it('verifies against a JWKS endpoint', async () => {
      const jwks = await startJwks(privateKey, publicPem);
      try {
        const verifier = new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'jwks', url: new URL(jwks.url) } });
        expect((await verifier.verify(await jwt())).subject).to.equal('alice');
      } finally {
        jwks.server.close();
      }
    });
  });

  describe('forged identity', () => {
    it('never forwards client rg-auth-* or x-replygate-* headers, and Kafka carries only the verified identity', async () => {
      await request(h.app)
        .get('/open')
        .set('rg-auth-subject', 'root')
        .set('rg-auth-scopes', 'admin')
        .set('rg-auth-method', 'jwt')
        .set('x-replygate-user', 'root')
        .set('rg-reply-partition', '999')
        .set('x-request-id', 'r-1')
        .expect(200);
      await request(h.app).get('/orders/1').set('x-api-key', ORDERS_KEY).set('rg-auth-subject', 'root').expect(200);
      const [anonymous, keyed] = h.publisher.published;
      expect(anonymous?.identity).to.equal(undefined);
      expect(anonymous?.headers).to.deep.equal({ 'x-request-id': 'r-1' });
      const anonHeaders = buildRequestMessage(anonymous!).headers;
      expect(Object.keys(anonHeaders).filter((k) => k.startsWith('rg-auth'))).to.deep.equal([]);
      // Only the gateway names a reply partition (role all, REPLYGATE_REPLY_PARTITION_HINT): a
      // client's would send replies where no relay of this replica reads, or nowhere.
      expect(anonHeaders).not.to.have.property('rg-reply-partition');
      expect(JSON.stringify(anonHeaders['rg-headers'])).not.to.include('999');
      const keyedHeaders = buildRequestMessage(keyed!).headers;
      expect(keyedHeaders['rg-auth-subject']).to.equal('shop');
      expect(keyedHeaders['rg-auth-scopes']).to.equal('orders:read');
      expect(JSON.stringify(keyedHeaders['rg-headers'])).not.to.include('root');
    });
  });

  describe('rate limits', () => {
    it('allows points requests per window per client IP, then 429 with Retry-After and RateLimit-*', async () => {
      const first = await request(h.app).get('/limited').expect(200);
      expect(first.headers).to.include({
        'ratelimit-limit': '2',
        'ratelimit-remaining': '1',
        'ratelimit-policy': '2;w=60',
      });
      expect(Number(first.headers['ratelimit-reset'])).to.be.within(1, 60);
      await request(h.app).get('/limited').expect(200);
      const over = await request(h.app).get('/limited');
      expectProblem(over, 429, 'RG_RATE_LIMITED');
      expect(Number(over.headers['retry-after'])).to.be.within(1, 60);
      expect(over.headers['ratelimit-remaining']).to.equal('0');
      expect(h.publisher.published).to.have.length(2);
      // Routes without a limit send no RateLimit headers.
      expect((await request(h.app).get('/open').expect(200)).headers).not.to.have.property('ratelimit-limit');
    });

    it('counts an authenticated caller by principal, not by IP', async () => {
      await request(h.app).get('/limited-keyed').set('x-api-key', ORDERS_KEY).expect(200);
      expectProblem(await request(h.app).get('/limited-keyed').set('x-api-key', ORDERS_KEY), 429, 'RG_RATE_LIMITED');
      // Another key from the same IP has its own budget: a per-IP count would refuse it too.
      await request(h.app).get('/limited-keyed').set('x-api-key', ANY_ROUTE_KEY).expect(200);
      expectProblem(await request(h.app).get('/limited-keyed').set('x-api-key', ANY_ROUTE_KEY), 429, 'RG_RATE_LIMITED');
      // A refused credential does not spend the budget of anyone.
      expectProblem(await request(h.app).get('/limited-keyed'), 401, 'RG_UNAUTHENTICATED');
    });
  });

  describe('when a dependency is down', () => {
    it('answers 503 RG_UNAVAILABLE when the rate-limit store fails, without publishing', async () => {
      // The production limiter (RateLimiterRedis with rejectIfRedisNotReady) rejects with a plain
      // Error while Redis is away; the same over a real unreachable Redis in the integration tier.
      h = createHarness(ROUTES, {
        stages: [
          createRateLimitStage({
            createLimiter: (route, l) =>
              redisLimiters(
                new Redis('redis://127.0.0.1:1', {
                  lazyConnect: true,
                  enableOfflineQueue: false,
                  retryStrategy: () => null,
                }),
                'rg:',
              )(route, l),
          }),
        ],
      });
      const res = await request(h.app).get('/limited').timeout(3000);
      expectProblem(res, 503, 'RG_UNAVAILABLE');
      expect(res.headers['retry-after']).to.equal('1');
      expect(h.publisher.published).to.have.length(0);
    });

    it('answers 503 RG_UNAVAILABLE for a JWT route when the JWKS endpoint is unreachable', async () => {
      const jwks = await startJwks(privateKey, publicPem);
      const url = new URL(jwks.url);
      // Closed again at once: the port answers nothing, as an issuer that is down.
      await new Promise<void>((resolve) => jwks.server.close(() => resolve()));
      h = createHarness(ROUTES, {
        stages: [createAuthStage({ jwt: new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'jwks', url } }) })],
      });
      const res = await request(h.app)
        .get('/me')
        .set('authorization', `Bearer ${await jwt()}`)
        .timeout(10_000);
      expectProblem(res, 503, 'RG_UNAVAILABLE');
      expect(h.publisher.published).to.have.length(0);
    });
  });

  describe('CORS', () => {
    it('answers a preflight from a listed origin without credentials being needed', async () => {
      const res = await request(h.app)
        .options('/browser/7')
        .set('origin', 'https://app.test')
        .set('access-control-request-method', 'POST')
        .set('access-control-request-headers', 'authorization, content-type')
        .expect(204);
      expect(res.headers).to.include({
        'access-control-allow-origin': 'https://app.test',
        'access-control-allow-credentials': 'true',
        'access-control-allow-methods': 'POST',
        'access-control-max-age': '120',
      });
      expect(res.headers['access-control-allow-headers']).to.include('authorization').and.include('x-request-id');
      expect(res.headers['vary']).to.include('Origin');
      expect(h.publisher.published).to.have.length(0);
    });

    it('refuses a preflight from another origin, and leaves OPTIONS on routes without cors at 405', async () => {
      const evil = await request(h.app)
        .options('/browser/7')
        .set('origin', 'https://evil.test')
        .set('access-control-request-method', 'POST');
      expectProblem(evil, 403, 'RG_FORBIDDEN');
      expect(evil.headers).not.to.have.property('access-control-allow-origin');
      const plain = await request(h.app)
        .options('/open')
        .set('origin', 'https://app.test')
        .set('access-control-request-method', 'GET');
      expectProblem(plain, 405, 'RG_METHOD_NOT_ALLOWED');
    });

    it('adds CORS headers to actual requests from listed origins, refusals included', async () => {
      const refused = await request(h.app).post('/browser/7').set('origin', 'https://app.test').send({});
      expectProblem(refused, 401, 'RG_UNAUTHENTICATED');
      expect(refused.headers['access-control-allow-origin']).to.equal('https://app.test');
      expect(refused.headers['access-control-expose-headers']).to.include('x-correlation-id');
      const ok = await request(h.app)
        .post('/browser/7')
        .set('origin', 'https://app.test')
        .set('authorization', `Bearer ${await jwt()}`)
        .send({});
      expect(ok.status).to.equal(200);
      expect(ok.headers['access-control-allow-origin']).to.equal('https://app.test');
      const other = await request(h.app).post('/browser/7').set('origin', 'https://evil.test').send({});
      expect(other.headers).not.to.have.property('access-control-allow-origin');
    });
  });

  it("keeps helmet's default headers", async () => {
    const res = await request(h.app).get('/open').expect(200);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['strict-transport-security']).to.be.a('string');
  });
});

/** A JWKS endpoint on 127.0.0.1 serving the public half of `privateKey`'s pair as kid k1. */
async function startJwks(_privateKey: KeyLike, publicPem: string): Promise<{ server: Server; url: string }> {
  const { createPublicKey } = await import('node:crypto');
  const jwk = await exportJWK(createPublicKey(publicPem));
  const body = JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] });
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json` };
}
