import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { ApiKeyVerifier } from '../../../src/admission/auth/api-key-verifier';
import { FileApiKeyStore } from '../../../src/admission/auth/file-api-key-store';
import { hashApiKey } from '../../../src/admission/auth/api-key-store';
import { principalOf } from '../../../src/admission/auth/principal';
import { ConfigError } from '../../../src/errors/startup-errors';
import { UnauthenticatedError } from '../../../src/errors/auth-errors';

const KEY = `rgk_${randomBytes(32).toString('base64url')}`;

function store(): FileApiKeyStore {
  return FileApiKeyStore.parse(`
keys:
  - id: ci-bot
    hash: ${hashApiKey(KEY)}
    subject: ci
    scopes: [orders:read, orders:write]
    routes: [get-order]
  - id: other
    hash: sha256:${hashApiKey('another-key-of-enough-length').toUpperCase()}
    subject: someone
`);
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

describe('API keys', () => {
  it('hashes keys with SHA-256 hex', () => {
    expect(hashApiKey('abc')).to.equal('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('resolves a valid key to its identity, with a principal derived from the id only', async () => {
    const verified = await new ApiKeyVerifier(store()).verify(KEY);
    expect(verified.identity).to.deep.equal({
      subject: 'ci',
      keyId: 'ci-bot',
      scopes: ['orders:read', 'orders:write'],
      method: 'apiKey',
      principal: principalOf('apikey', 'ci-bot'),
    });
    expect(verified.identity.principal)
      .to.match(/^[0-9a-f]{64}$/)
      .and.not.include(KEY);
    expect(verified.routes).to.deep.equal(['get-order']);
  });

  it('accepts a sha256: prefix and upper-case hex in the file', async () => {
    const verified = await new ApiKeyVerifier(store()).verify('another-key-of-enough-length');
    expect(verified.identity.keyId).to.equal('other');
    expect(verified.identity.scopes).to.deep.equal([]);
    expect(verified.routes).to.equal(undefined);
  });

  it('refuses an unknown key as invalid and a malformed one as malformed', async () => {
    const verifier = new ApiKeyVerifier(store());
    expect((await rejection(verifier.verify(`${KEY}x`))).reason).to.equal('invalid');
    expect((await rejection(verifier.verify('short'))).reason).to.equal('invalid');
    expect((await rejection(verifier.verify('has a space in it!!'))).reason).to.equal('invalid');
  });

  it('refuses a keys file with a bad hash, a duplicate id or an unknown field, naming the entry', () => {
    const bad = (yaml: string, text: RegExp) => {
      expect(() => FileApiKeyStore.parse(yaml, 'keys.yaml'))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(text);
    };
    bad('keys:\n  - { id: a, hash: abc, subject: s }', /keys\.yaml: keys\.0\.hash/);
    const h = hashApiKey('x'.repeat(20));
    bad(
      `keys:\n  - { id: a, hash: ${h}, subject: s }\n  - { id: a, hash: ${hashApiKey('y'.repeat(20))}, subject: s }`,
      /keys\.1: duplicate id a/,
    );
    bad(`keys:\n  - { id: a, hash: ${h}, subject: s, key: plaintext }`, /keys\.0/);
  });
});
