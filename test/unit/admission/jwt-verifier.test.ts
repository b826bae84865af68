import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { exportSPKI, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { JwtVerifier, scopesOf } from '../../../src/admission/auth/jwt-verifier';
import { principalOf } from '../../../src/admission/auth/principal';
import { ConfigError } from '../../../src/errors/startup-errors';
import { UnauthenticatedError } from '../../../src/errors/auth-errors';

const ISS = 'https://issuer.test';
const AUD = 'replygate-test';

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

async function rejection(p: Promise<unknown>): Promise<UnauthenticatedError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(UnauthenticatedError);
    return err as UnauthenticatedError;
  }
  throw new Error('expected a rejection');
}

describe('JwtVerifier', () => {
  let privateKey: KeyLike;
  let publicPem: string;
  let verifier: JwtVerifier;

  const sign = (
    claims: Record<string, unknown> = {},
    opts: { exp?: number | string; aud?: string; iss?: string } = {},
  ) =>
    new SignJWT({ scope: 'orders:read orders:write', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(opts.iss ?? ISS)
      .setAudience(opts.aud ?? AUD)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(privateKey);

  before(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    verifier = new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'publicKey', pem: publicPem } });
  });

  it('accepts a valid token and builds the identity from sub, kid and scope', async () => {
    const identity = await verifier.verify(await sign());
    expect(identity).to.deep.equal({
      subject: 'user-1',
      keyId: 'k1',
      scopes: ['orders:read', 'orders:write'],
      method: 'jwt',
      principal: principalOf('jwt', ISS, 'user-1'),
    });
  });

  it('reads scopes from scope (space-separated) and scp (array or string)', () => {
    expect(scopesOf({ scope: 'a  b' })).to.deep.equal(['a', 'b']);
    expect(scopesOf({ scp: ['c', 'd', 7] })).to.deep.equal(['c', 'd']);
    expect(scopesOf({ scope: 'a', scp: 'a e' })).to.deep.equal(['a', 'e']);
    expect(scopesOf({})).to.deep.equal([]);
  });

  it('refuses an expired token as expired, within the clock skew it still passes', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await rejection(verifier.verify(await sign({}, { exp: now - 120 })))).reason).to.equal('expired');
    await verifier.verify(await sign({}, { exp: now - 10 })); // 30 s default skew
    const strict = new JwtVerifier({
      issuer: ISS,
      audience: AUD,
      key: { kind: 'publicKey', pem: publicPem },
      clockSkewSec: 0,
    });
    expect((await rejection(strict.verify(await sign({}, { exp: now - 10 })))).reason).to.equal('expired');
  });

  it('refuses a wrong audience or issuer', async () => {
    expect((await rejection(verifier.verify(await sign({}, { aud: 'someone-else' })))).reason).to.equal('invalid');
    expect((await rejection(verifier.verify(await sign({}, { iss: 'https://evil.test' })))).reason).to.equal('invalid');
  });

  it('refuses a token without exp or sub', async () => {
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('u')
      .sign(privateKey);
    expect((await rejection(verifier.verify(noExp))).reason).to.equal('invalid');
    const noSub = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setExpirationTime('5m')
      .sign(privateKey);
    expect((await rejection(verifier.verify(noSub))).reason).to.equal('invalid');
  });

  it('refuses alg: none', async () => {
    const claims = { iss: ISS, aud: AUD, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;
    expect((await rejection(verifier.verify(unsigned))).reason).to.equal('invalid');
  });

  it('refuses algorithm confusion: HS256 "signed" with the RSA public key', async () => {
    const claims = { iss: ISS, aud: AUD, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    const sig = createHmac('sha256', publicPem).update(input).digest('base64url');
    expect((await rejection(verifier.verify(`${input}.${sig}`))).reason).to.equal('invalid');
  });

  it('refuses a token signed by another key, and garbage', async () => {
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('u')
      .setExpirationTime('5m')
      .sign(other.privateKey);
    expect((await rejection(verifier.verify(forged))).reason).to.equal('invalid');
    expect((await rejection(verifier.verify('not-a-jwt'))).reason).to.equal('invalid');
  });

  it('verifies HS256 with a shared secret, and refuses an RS256 token there', async () => {
    const secret = randomBytes(32);
    const hs = new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'secret', secret } });
    const token = await new SignJWT({ scp: ['x'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .setSubject('svc')
      .setExpirationTime('5m')
      .sign(secret);
    expect((await hs.verify(token)).scopes).to.deep.equal(['x']);
    expect((await rejection(hs.verify(await sign()))).reason).to.equal('invalid');
  });

  it('refuses unsafe configurations at start-up', () => {
    const pem = publicPem;
    expect(
      () =>
        new JwtVerifier({
          issuer: ISS,
          audience: AUD,
          key: { kind: 'publicKey', pem },
          algorithms: ['RS256', 'HS256'],
        }),
    ).to.throw(ConfigError, /HS256/);
    expect(
      () =>
        new JwtVerifier({
          issuer: ISS,
          audience: AUD,
          key: { kind: 'secret', secret: randomBytes(32) },
          algorithms: ['RS256'],
        }),
    ).to.throw(ConfigError, /RS256/);
    expect(
      () => new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'secret', secret: randomBytes(16) } }),
    ).to.throw(ConfigError, /32 bytes/);
    const { privateKey: priv } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privatePem = priv.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => new JwtVerifier({ issuer: ISS, audience: AUD, key: { kind: 'publicKey', pem: privatePem } })).to.throw(
      ConfigError,
      /private key/,
    );
  });
});
