import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import { ApiKeyVerifier } from '../../src/admission/auth/api-key-verifier';
import { createAuthStage } from '../../src/admission/auth/auth-stage';
import { FileApiKeyStore } from '../../src/admission/auth/file-api-key-store';
import { hashApiKey } from '../../src/admission/auth/api-key-store';
import { createHarness, type Harness } from './gateway-harness';

const KEY_A = `rgk_${randomBytes(32).toString('base64url')}`;
const KEY_B = `rgk_${randomBytes(32).toString('base64url')}`;

const ROUTES = `
routes:
  - { name: whoami, method: POST, path: /whoami, topic: whoami, auth: apiKey }
  - { name: open, method: POST, path: /open, topic: open }
`;

const KEYS = `
keys:
  - { id: caller-a, hash: ${hashApiKey(KEY_A)}, subject: alice, scopes: [] }
  - { id: caller-b, hash: ${hashApiKey(KEY_B)}, subject: bob, scopes: [] }
`;

/**
 * Idempotency keys are claimed per route **and caller**: one caller's key never replays, blocks
 * or reveals another caller's request (issue 10, item 1).
 */
describe('Idempotency-Key scoped by caller (in-process, fake publisher)', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness(ROUTES, {
      idempotency: true,
      stages: [createAuthStage({ apiKeys: new ApiKeyVerifier(FileApiKeyStore.parse(KEYS)) })],
    });
    // Anonymous callers are told apart by client address; X-Forwarded-For stands in for two hosts.
    h.app.express.set('trust proxy', true);
    h.publisher.behaviour = {
      kind: 'reply',
      reply: (r) => ({ status: '200', body: JSON.stringify({ subject: r.identity?.subject ?? null }) }),
    };
  });
  afterEach(() => h.registry.cancelAll('test-end'));

  const whoami = (apiKey: string, body: object = { pay: 1 }) =>
    request(h.app).post('/whoami').set('x-api-key', apiKey).set('idempotency-key', 'pay-1').send(body);

  it("gives a second API key its own reply for the same key and body, never the first caller's", async () => {
    const a = await whoami(KEY_A).expect(200);
    const b = await whoami(KEY_B).expect(200);
    expect(a.body).to.deep.equal({ subject: 'alice' });
    expect(b.body).to.deep.equal({ subject: 'bob' });
    expect(b.headers['idempotent-replayed']).to.equal(undefined);
    expect(b.headers['x-correlation-id']).not.to.equal(a.headers['x-correlation-id']);
    expect(h.publisher.published).to.have.length(2);
    // The same caller's retry still replays its own first attempt.
    const again = await whoami(KEY_A).expect(200);
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.headers['x-correlation-id']).to.equal(a.headers['x-correlation-id']);
    expect(h.publisher.published).to.have.length(2);
  });

  it("does not refuse (or reveal) another caller's request when the bodies differ", async () => {
    const a = await whoami(KEY_A, { pay: 1 }).expect(200);
    const b = await whoami(KEY_B, { pay: 2 });
    expect(b.status).to.equal(200);
    expect(JSON.stringify(b.body)).not.to.include(String(a.headers['x-correlation-id']));
    // The caller's own reuse with another body is refused, naming no id.
    const reuse = await whoami(KEY_A, { pay: 3 });
    expect(reuse.status).to.equal(422);
    expect(JSON.stringify(reuse.body)).not.to.include(String(a.headers['x-correlation-id']));
  });

  it('scopes anonymous callers by client address', async () => {
    const open = (ip: string) =>
      request(h.app).post('/open').set('x-forwarded-for', ip).set('idempotency-key', 'k-1').send({ n: 1 });
    const first = await open('203.0.113.1').expect(200);
    const other = await open('203.0.113.2').expect(200);
    expect(other.headers['idempotent-replayed']).to.equal(undefined);
    expect(other.headers['x-correlation-id']).not.to.equal(first.headers['x-correlation-id']);
    const retry = await open('203.0.113.1').expect(200);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(h.publisher.published).to.have.length(2);
  });
});
