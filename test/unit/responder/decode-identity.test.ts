import { expect } from 'chai';
import { decodeRequest } from '../../../src/responder/decode-request';
import { buildRequestMessage } from '../../../src/kafka/request-message';
import type { OutgoingRequest } from '../../../src/protocol/outgoing-request';
import { requestMessage } from './fake-request';

describe('decodeRequest: the caller identity', () => {
  it('reads what the gateway wrote in the rg-auth-* headers', () => {
    const request: OutgoingRequest = {
      topic: 't',
      dialect: 'replygate',
      correlationId: 'gw-1.AAAAAAAAAAAAAAAAAAAAAA',
      replyTopic: 'replies',
      deadline: Date.now() + 60_000,
      route: 'r',
      method: 'GET',
      path: '/x',
      params: {},
      query: {},
      headers: {},
      contentType: undefined,
      body: Buffer.alloc(0),
      key: undefined,
      identity: { subject: 'ci', keyId: 'ci-bot', scopes: ['a', 'b'], method: 'apiKey', principal: 'p' },
    };
    const m = buildRequestMessage(request);
    const decoded = decodeRequest({ ...m, timestamp: '0', attributes: 0, offset: '0', value: m.value } as never);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.context.identity).to.deep.equal({
      subject: 'ci',
      keyId: 'ci-bot',
      scopes: ['a', 'b'],
      method: 'apiKey',
    });
  });

  it('is undefined without a subject or with an unknown method', () => {
    const none = decodeRequest(requestMessage({}));
    const odd = decodeRequest(requestMessage({}, { 'rg-auth-subject': 'x', 'rg-auth-method': 'password' }));
    if (!none.ok || !odd.ok) throw new Error('not decoded');
    expect(none.context.identity).to.equal(undefined);
    expect(odd.context.identity).to.equal(undefined);
  });
});
