import { expect } from 'chai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { waitFor } from '../support/wait-for';
import { createHarness, type Harness } from './gateway-harness';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes held in ArrayBuffers (request bodies are Buffers) after a full collection. */
function arrayBuffersAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

const BODY_BYTES = 256 * 1024;
const PARKED = 24;

describe('a parked request does not hold its body (in-process, fake publisher)', () => {
  let h: Harness;
  afterEach(() => h.registry.cancelAll('test-end'));

  it(`lets ${PARKED} parked requests' ${BODY_BYTES / 1024} KiB bodies be collected once they are published`, async () => {
    h = createHarness(
      'routes:\n  - { name: upload, method: POST, path: /upload, topic: uploads, timeoutMs: 60000, accepts: [application/octet-stream] }\n',
      { maxBodyBytes: 1024 * 1024 },
    );
    h.publisher.behaviour = { kind: 'silent' };
    // One body for every request: the client side holds it once, whatever the server keeps.
    const body = Buffer.alloc(BODY_BYTES, 7);
    const before = arrayBuffersAfterGc();
    const answers = Array.from({ length: PARKED }, () =>
      request(h.app)
        .post('/upload')
        .set('content-type', 'application/octet-stream')
        .send(body)
        .then((r) => r.status),
    );
    await waitFor(() => h.registry.size === PARKED && h.publisher.published.length === PARKED, 10_000);
    // The fault happened: every body reached the publisher, whole.
    expect(h.publisher.published.map((r) => r.body.length)).to.deep.equal(Array(PARKED).fill(BODY_BYTES));
    // Kafka has them now: the fake publisher's record is the last holder the gateway did not make.
    h.publisher.published.length = 0;
    const grown = arrayBuffersAfterGc() - before;
    // Held bodies would be PARKED x 256 KiB = 6 MiB; what remains is sockets' and parsers' buffers.
    expect(grown, `${grown} B of ArrayBuffers grew while ${PARKED} requests were parked`).to.be.below(
      (PARKED * BODY_BYTES) / 4,
    );
    h.registry.cancelAll('test-end');
    expect(await Promise.all(answers)).to.deep.equal(Array(PARKED).fill(503));
  });
});
