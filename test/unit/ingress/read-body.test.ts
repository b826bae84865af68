import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { expect } from 'chai';
import { BodyTooLargeError } from '../../../src/errors/http-errors';
import { readBody } from '../../../src/ingress/http/read-body';

/** An endless gzip stream of zeros: any reader that inflates it in full never finishes. */
function endlessGzipBomb(): { req: IncomingMessage; stop: () => void } {
  const zeros = Buffer.alloc(1024 * 1024);
  const source = new Readable({
    read() {
      this.push(zeros);
    },
  });
  const gzip = createGzip({ level: 9 });
  const req = Object.assign(new PassThrough(), {
    headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    complete: false,
  });
  source.pipe(gzip).pipe(req);
  return {
    req: req as unknown as IncomingMessage,
    stop: () => {
      source.destroy();
      gzip.destroy();
      req.destroy();
    },
  };
}

describe('readBody', () => {
  it('stops decoding a gzip body at the limit (413), even an endless one', async function () {
    this.timeout(5000);
    const { req, stop } = endlessGzipBomb();
    try {
      const err = await readBody(req, 256 * 1024).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(BodyTooLargeError);
      expect((err as BodyTooLargeError).limitBytes).to.equal(256 * 1024);
    } finally {
      stop();
    }
  });
});
