import { expect } from 'chai';
import fc from 'fast-check';
import { ReplyMalformedError } from '../../../src/errors/reply-errors';
import {
  decodeEnvelope,
  decodeReply,
  encodeEnvelope,
  type ReplyEnvelope,
  type ReplyEnvelopeMeta,
} from '../../../src/protocol/reply-envelope';

const ID = 'rg-test.AAAAAAAAAAAAAAAAAAAAAA';

function meta(extra: Partial<ReplyEnvelopeMeta> = {}): ReplyEnvelopeMeta {
  return { id: ID, receivedAt: 1_700_000_000_000, topic: 'replygate.replies', partition: 3, offset: '42', ...extra };
}

function envelope(extra: Partial<ReplyEnvelopeMeta> = {}, body: Buffer | string = '{"ok":true}'): ReplyEnvelope {
  return { meta: meta(extra), body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function expectMalformed(fn: () => unknown): ReplyMalformedError {
  const err = thrown(fn);
  expect(err).to.be.instanceOf(ReplyMalformedError);
  const e = err as ReplyMalformedError;
  expect(e.code).to.equal('RG_REPLY_MALFORMED');
  expect(e.status).to.equal(502);
  return e;
}

describe('reply envelope', () => {
  describe('encodeEnvelope / decodeEnvelope', () => {
    it('round-trips meta and a JSON body', () => {
      const env = envelope({ status: '201', headers: '{"x-a":"1"}', contentType: 'application/json' });
      const decoded = decodeEnvelope(encodeEnvelope(env));
      expect(decoded.meta).to.deep.equal(env.meta);
      expect(decoded.body.equals(env.body)).to.equal(true);
    });

    it('starts with the rg1 magic line', () => {
      expect(encodeEnvelope(envelope()).subarray(0, 4).toString('latin1')).to.equal('rg1\n');
    });

    it('round-trips a binary body with every byte value, newlines included', () => {
      const body = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
      const decoded = decodeEnvelope(encodeEnvelope(envelope({}, body)));
      expect(decoded.body.equals(body)).to.equal(true);
    });

    it('round-trips an empty body', () => {
      const decoded = decodeEnvelope(encodeEnvelope(envelope({}, Buffer.alloc(0))));
      expect(decoded.body.length).to.equal(0);
      expect(decoded.meta).to.deep.equal(meta());
    });

    it('round-trips a body made of newlines and one starting with a newline', () => {
      for (const text of ['\n', '\n\n\n', '\nrg1\n{"id":"x"}\n', 'line 1\r\nline 2\n']) {
        const decoded = decodeEnvelope(encodeEnvelope(envelope({}, text)));
        expect(decoded.body.toString('utf8')).to.equal(text);
      }
    });

    it('round-trips meta strings that contain newlines', () => {
      const env = envelope({ error: 'line 1\nline 2', contentType: 'text/plain' }, 'body\n');
      const decoded = decodeEnvelope(encodeEnvelope(env));
      expect(decoded.meta).to.deep.equal(env.meta);
      expect(decoded.body.toString()).to.equal('body\n');
    });

    const garbage: [string, Buffer][] = [
      ['an empty buffer', Buffer.alloc(0)],
      ['plain JSON', Buffer.from('{"id":"x","receivedAt":1}')],
      ['the magic alone', Buffer.from('rg1\n')],
      ['a wrong magic', Buffer.from('rg2\n{"id":"x","receivedAt":1}\n')],
      ['a truncated meta line', Buffer.from('rg1\n{"id":"x","receivedAt":1}')],
      ['meta that is not JSON', Buffer.from('rg1\n{id: x}\nbody')],
      ['meta that is an array', Buffer.from('rg1\n[1,2]\nbody')],
      ['meta that is null', Buffer.from('rg1\nnull\nbody')],
      ['meta without id', Buffer.from('rg1\n{"receivedAt":1}\n')],
      ['meta without receivedAt', Buffer.from('rg1\n{"id":"x"}\n')],
      ['meta with a numeric status', Buffer.from('rg1\n{"id":"x","receivedAt":1,"status":200}\n')],
      ['meta with an object headers field', Buffer.from('rg1\n{"id":"x","receivedAt":1,"headers":{}}\n')],
      ['meta with a numeric contentType', Buffer.from('rg1\n{"id":"x","receivedAt":1,"contentType":1}\n')],
      ['meta with a boolean error', Buffer.from('rg1\n{"id":"x","receivedAt":1,"error":true}\n')],
      ['a string receivedAt', Buffer.from('rg1\n{"id":"x","receivedAt":"1"}\n')],
    ];
    for (const [what, raw] of garbage) {
      it(`rejects ${what} with ReplyMalformedError`, () => {
        expectMalformed(() => decodeEnvelope(raw));
      });
    }

    describe('properties', () => {
      // Any UTF-16 code unit, lone surrogates included: meta strings come off Kafka headers untrusted.
      const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
      const metaArb: fc.Arbitrary<ReplyEnvelopeMeta> = fc.record(
        {
          id: anyText,
          status: anyText,
          headers: anyText,
          contentType: anyText,
          error: anyText,
          receivedAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          topic: anyText,
          partition: fc.nat(),
          offset: anyText,
        },
        { requiredKeys: ['id', 'receivedAt', 'topic', 'partition', 'offset'] },
      );

      it('decodeEnvelope(encodeEnvelope(e)) is e for any meta and body', () => {
        fc.assert(
          fc.property(metaArb, fc.uint8Array({ maxLength: 512 }), (m, bytes) => {
            const body = Buffer.from(bytes);
            const decoded = decodeEnvelope(encodeEnvelope({ meta: m, body }));
            expect(decoded.meta).to.deep.equal(m);
            expect(decoded.body.equals(body)).to.equal(true);
          }),
          { numRuns: 500 },
        );
      });

      it('decodeEnvelope on arbitrary bytes returns or throws ReplyMalformedError, nothing else', () => {
        const magic = Buffer.from('rg1\n');
        const bytes = fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b));
        const raw = fc.oneof(
          bytes,
          // Mostly-valid inputs reach the JSON and shape checks, not just the magic check.
          bytes.map((b) => Buffer.concat([magic, b])),
          fc.tuple(fc.json(), bytes).map(([j, b]) => Buffer.concat([magic, Buffer.from(j), Buffer.from('\n'), b])),
        );
        fc.assert(
          fc.property(raw, (buf) => {
            let decoded: ReplyEnvelope;
            try {
              decoded = decodeEnvelope(buf);
            } catch (err) {
              expect(err).to.be.instanceOf(ReplyMalformedError);
              return;
            }
            expect(decoded.meta.id).to.be.a('string');
            expect(decoded.meta.receivedAt).to.be.a('number');
            expect(Buffer.isBuffer(decoded.body)).to.equal(true);
          }),
          { numRuns: 1000 },
        );
      });
    });
  });

  describe('decodeReply', () => {
    it('defaults the status to 200 and the content type to the route setting', () => {
      const reply = decodeReply(envelope(), 'application/vnd.test+json');
      expect(reply.status).to.equal(200);
      expect(reply.contentType).to.equal('application/vnd.test+json');
      expect(reply.headers).to.deep.equal({});
      expect(reply.body.toString()).to.equal('{"ok":true}');
      expect(reply.receivedAt).to.equal(1_700_000_000_000);
    });

    it("uses the replier's content type when it sent one", () => {
      expect(decodeReply(envelope({ contentType: 'text/csv' }), 'application/json').contentType).to.equal('text/csv');
    });

    for (const status of ['200', '201', '204', '301', '404', '409', '422', '500', '503', '599', ' 422 ']) {
      it(`accepts the status ${JSON.stringify(status)}`, () => {
        expect(decodeReply(envelope({ status }), 'application/json').status).to.equal(Number(status.trim()));
      });
    }

    for (const status of ['banana', '99', '600', '1xx', '100', '101', '199', '', '2000', '20', '-200', '2e2', '0x1f']) {
      it(`rejects the status ${JSON.stringify(status)} as malformed`, () => {
        const err = expectMalformed(() => decodeReply(envelope({ status }), 'application/json'));
        expect(err.correlationId).to.equal(ID);
      });
    }

    it('parses rg-headers, lower-casing names', () => {
      const reply = decodeReply(
        envelope({ headers: JSON.stringify({ 'X-Order-Version': '7', ETag: '"abc"', 'cache-control': 'no-store' }) }),
        'application/json',
      );
      expect(reply.headers).to.deep.equal({ 'x-order-version': '7', etag: '"abc"', 'cache-control': 'no-store' });
    });

    it('drops headers reserved to the gateway or the connection', () => {
      const reserved = {
        'Content-Length': '1',
        'content-type': 'text/html',
        'Set-Cookie': 'session=stolen',
        'X-Correlation-Id': 'someone.else',
        Connection: 'close',
        'Transfer-Encoding': 'chunked',
        'keep-alive': 'timeout=5',
        Upgrade: 'websocket',
        Trailer: 'x',
        TE: 'trailers',
        'Proxy-Authenticate': 'Basic',
      };
      const reply = decodeReply(
        envelope({ headers: JSON.stringify({ ...reserved, 'x-kept': 'yes' }), contentType: 'application/json' }),
        'application/json',
      );
      expect(reply.headers).to.deep.equal({ 'x-kept': 'yes' });
      expect(reply.contentType).to.equal('application/json');
    });

    const denied: [string, Record<string, string>][] = [
      ['hop-by-hop', { Connection: 'close', 'Proxy-Connection': 'x', 'Proxy-Authorization': 'Basic x' }],
      ['framing', { 'Content-Encoding': 'gzip', 'Content-Length': '3', 'Content-Type': 'text/html' }],
      [
        'security',
        {
          'Content-Security-Policy': 'default-src *',
          'Strict-Transport-Security': 'max-age=0',
          'X-Frame-Options': 'ALLOWALL',
          'X-Content-Type-Options': 'none',
          'Referrer-Policy': 'unsafe-url',
          'Cross-Origin-Resource-Policy': 'cross-origin',
          'Permissions-Policy': 'camera=*',
        },
      ],
      [
        'cors',
        {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Credentials': 'true',
          'Access-Control-Expose-Headers': '*',
        },
      ],
      ['cookie', { 'Set-Cookie': 'session=stolen' }],
      [
        'gateway',
        {
          Date: 'Thu, 01 Jan 1970 00:00:00 GMT',
          Server: 'evil',
          'X-Correlation-Id': 'someone.else',
          'Idempotent-Replayed': 'true',
          'Replygate-Stored-Reply': 'true',
          'Replygate-Callback-State': 'delivered',
          'X-Replygate-Anything': '1',
          'RG-Status': '200',
          RateLimit: 'limit=1',
          'RateLimit-Policy': '1;w=1',
          'RateLimit-Remaining': '999',
          traceparent: '00-00000000000000000000000000000001-0000000000000001-01',
        },
      ],
    ];
    for (const [family, headers] of denied) {
      it(`drops ${family} headers a service sets, and lists them as dropped`, () => {
        const reply = decodeReply(
          envelope({ headers: JSON.stringify({ ...headers, 'X-Kept': 'yes', ETag: '"1"' }) }),
          'application/json',
        );
        expect(reply.headers).to.deep.equal({ 'x-kept': 'yes', etag: '"1"' });
        expect(reply.droppedHeaders).to.deep.equal(
          Object.keys(headers).map((name) => ({ name: name.toLowerCase(), family })),
        );
      });
    }

    it("keeps what is the service's to say: caching, Location, Retry-After, Vary, WWW-Authenticate", () => {
      const own = {
        'cache-control': 'max-age=60',
        location: '/orders/o-1',
        'retry-after': '30',
        vary: 'Accept-Language',
        'www-authenticate': 'Bearer',
        'content-language': 'de',
        'content-disposition': 'attachment',
      };
      const reply = decodeReply(envelope({ headers: JSON.stringify(own) }), 'application/json');
      expect(reply.headers).to.deep.equal(own);
      expect(reply.droppedHeaders).to.equal(undefined);
    });

    describe('caps (REPLYGATE_MAX_REPLY_HEADERS, REPLYGATE_MAX_REPLY_HEADER_BYTES)', () => {
      const many = (n: number, valueBytes = 1): string =>
        JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v'.repeat(valueBytes)])));

      it('takes up to 64 headers by default and refuses 65 as malformed (502), naming the setting', () => {
        expect(Object.keys(decodeReply(envelope({ headers: many(64) }), 'application/json').headers)).to.have.length(
          64,
        );
        const err = expectMalformed(() => decodeReply(envelope({ headers: many(65) }), 'application/json'));
        expect(err.message)
          .to.contain('reply sets 65 headers; at most 64')
          .and.to.contain('REPLYGATE_MAX_REPLY_HEADERS');
        expect(err.status).to.equal(502);
      });

      it('counts denied headers against the cap too: 2,000 headers (~400 KB) are refused', () => {
        const err = expectMalformed(() => decodeReply(envelope({ headers: many(2000, 200) }), 'application/json'));
        expect(err.message).to.contain('2000 headers');
      });

      it('refuses more than 16 KiB of names and values by default, naming the setting', () => {
        // 20 headers of ~1 KB each: under the count cap, over the byte cap.
        const err = expectMalformed(() => decodeReply(envelope({ headers: many(20, 1000) }), 'application/json'));
        expect(err.message).to.contain('16384 bytes').and.to.contain('REPLYGATE_MAX_REPLY_HEADER_BYTES');
      });

      it('applies the configured limits', () => {
        const limits = { maxCount: 2, maxBytes: 100 };
        expect(decodeReply(envelope({ headers: many(2) }), 'application/json', limits).headers).to.have.keys(
          'x-h0',
          'x-h1',
        );
        expectMalformed(() => decodeReply(envelope({ headers: many(3) }), 'application/json', limits));
        expectMalformed(() => decodeReply(envelope({ headers: many(2, 60) }), 'application/json', limits));
      });
    });

    const badHeaders: [string, string][] = [
      ['not JSON', '{x-a: 1}'],
      ['a JSON array', '[["x-a","1"]]'],
      ['JSON null', 'null'],
      ['a JSON string', '"x-a: 1"'],
      ['a numeric value', '{"x-a":1}'],
      ['a null value', '{"x-a":null}'],
      ['an object value', '{"x-a":{"v":"1"}}'],
      ['a value with CRLF (response splitting)', JSON.stringify({ 'x-a': 'ok\r\nSet-Cookie: evil=1' })],
      ['a value with a bare LF', JSON.stringify({ 'x-a': 'ok\nx' })],
      ['a value with a NUL byte', JSON.stringify({ 'x-a': 'a\u0000b' })],
      ['a value outside Latin-1', JSON.stringify({ 'x-a': 'snow ☃' })],
      ['a name with a space', JSON.stringify({ 'x a': '1' })],
      ['a name with a colon', JSON.stringify({ 'x-a:': '1' })],
      ['an empty name', JSON.stringify({ '': '1' })],
      ['a name with CRLF', JSON.stringify({ 'x-a\r\nx-b': '1' })],
    ];
    for (const [what, headers] of badHeaders) {
      it(`rejects rg-headers with ${what} as malformed`, () => {
        const err = expectMalformed(() => decodeReply(envelope({ headers }), 'application/json'));
        expect(err.correlationId).to.equal(ID);
      });
    }

    it('rejects a content type with CRLF as malformed', () => {
      expectMalformed(() => decodeReply(envelope({ contentType: 'text/plain\r\nx-evil: 1' }), 'application/json'));
    });

    it('does not let a __proto__ header reach the prototype of the headers object', () => {
      const reply = decodeReply(envelope({ headers: '{"__proto__":"x","x-a":"1"}' }), 'application/json');
      expect(Object.getPrototypeOf(reply.headers)).to.equal(Object.prototype);
      expect(reply.headers['x-a']).to.equal('1');
      expect(({} as Record<string, unknown>)['x']).to.equal(undefined);
    });

    describe('NestJS errors (meta.error)', () => {
      const cases: [string, string, number, unknown][] = [
        [
          'an object with status',
          '{"status":404,"message":"no such order"}',
          404,
          { status: 404, message: 'no such order' },
        ],
        [
          'an object with statusCode',
          '{"statusCode":409,"message":"conflict"}',
          409,
          { statusCode: 409, message: 'conflict' },
        ],
        ['an object without status', '{"message":"boom"}', 500, { message: 'boom' }],
        ['an object with a status out of range', '{"status":200}', 500, { status: 200 }],
        ['an object with a string status', '{"status":"404"}', 500, { status: '404' }],
        ['an object with a fractional status', '{"status":404.5}', 500, { status: 404.5 }],
        ['a plain string', 'Something failed', 500, { message: 'Something failed' }],
        ['a JSON string', '"Something failed"', 500, { message: 'Something failed' }],
        ['a JSON number', '42', 500, { message: '42' }],
        ['JSON null', 'null', 500, { message: 'null' }],
      ];
      for (const [what, error, status, body] of cases) {
        it(`answers ${status} for ${what}`, () => {
          const reply = decodeReply(
            envelope({ error, status: '200', contentType: 'text/plain' }, 'ignored'),
            'text/plain',
          );
          expect(reply.status).to.equal(status);
          expect(reply.contentType).to.equal('application/json');
          expect(reply.headers).to.deep.equal({});
          expect(JSON.parse(reply.body.toString('utf8'))).to.deep.equal(body);
        });
      }

      it('takes status before statusCode', () => {
        const reply = decodeReply(envelope({ error: '{"status":418,"statusCode":503}' }), 'application/json');
        expect(reply.status).to.equal(418);
      });
    });
  });
});
