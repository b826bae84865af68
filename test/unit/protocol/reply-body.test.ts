import { expect } from 'chai';
import { replyBodyField } from '../../../src/protocol/reply-body';
import type { DecodedReply } from '../../../src/protocol/reply-envelope';

const reply = (contentType: string, body: Buffer | string): DecodedReply => ({
  status: 200,
  headers: {},
  contentType,
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  receivedAt: 0,
});

describe('replyBodyField', () => {
  it('keeps JSON as text, or parses it when asked (text when it does not parse, nothing when empty)', () => {
    expect(replyBodyField(reply('application/json', '{"a":1}'))).to.deep.equal({ body: '{"a":1}' });
    expect(replyBodyField(reply('application/problem+json', '{"a":1}'), { parseJson: true })).to.deep.equal({
      body: { a: 1 },
    });
    expect(replyBodyField(reply('application/json', '{oops'), { parseJson: true })).to.deep.equal({ body: '{oops' });
    expect(replyBodyField(reply('application/json', ''), { parseJson: true })).to.deep.equal({});
  });

  it('sends text as text and anything else as base64', () => {
    expect(replyBodyField(reply('text/plain; charset=utf-8', 'hé'))).to.deep.equal({ body: 'hé' });
    expect(replyBodyField(reply('application/octet-stream', Buffer.from([0xff, 0x00])))).to.deep.equal({
      bodyBase64: '/wA=',
    });
  });
});
