import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { expect } from 'chai';
import { queryOf, requestTargetOf } from '../../../src/ingress/http/request-target';

function requestTo(url: string, headers: Record<string, string> = {}): IncomingMessage {
  const req = new IncomingMessage(new Socket());
  req.url = url;
  req.headers = headers;
  return req;
}

const trustNone = () => false;

describe('requestTargetOf (a route request read without express)', () => {
  it('splits an origin-form target into path and query, the path as sent (not decoded)', () => {
    const t = requestTargetOf(requestTo('/orders/a%2Fb?x=1&y=2'), trustNone);
    expect(t).to.include({ path: '/orders/a%2Fb', search: 'x=1&y=2', url: '/orders/a%2Fb?x=1&y=2' });
    expect(requestTargetOf(requestTo('/orders'), trustNone)).to.include({ path: '/orders', search: '' });
    expect(requestTargetOf(requestTo('/orders#frag'), trustNone)).to.include({ path: '/orders', search: '' });
    expect(requestTargetOf(requestTo('/orders?q=1#frag'), trustNone)).to.include({ path: '/orders', search: 'q=1' });
  });

  it('leaves any other form (absolute URL, *) and a path not wanted to express', () => {
    expect(requestTargetOf(requestTo('http://example.com/orders'), trustNone)).to.equal(undefined);
    expect(requestTargetOf(requestTo('*'), trustNone)).to.equal(undefined);
    const routes = (path: string) => !path.startsWith('/admin');
    expect(requestTargetOf(requestTo('/admin/routes?x=1'), trustNone, routes)).to.equal(undefined);
    expect(requestTargetOf(requestTo('/orders?x=1'), trustNone, routes)).to.include({ path: '/orders' });
  });

  it('takes X-Forwarded-For only from a trusted peer', () => {
    const req = requestTo('/ip', { 'x-forwarded-for': '203.0.113.9' });
    Object.defineProperty(req.socket, 'remoteAddress', { value: '127.0.0.1' });
    expect(requestTargetOf(req, trustNone)?.clientIp).to.equal('127.0.0.1');
    expect(requestTargetOf(req, () => true)?.clientIp).to.equal('203.0.113.9');
  });
});

describe('queryOf (express simple parser semantics)', () => {
  it('repeats become arrays, and __proto__ is only a name', () => {
    const q = queryOf('a=1&a=2&b=x%20y&__proto__=p');
    expect(q['a']).to.deep.equal(['1', '2']);
    expect(q['b']).to.equal('x y');
    expect(q['__proto__']).to.equal('p');
    expect(Object.getPrototypeOf(q)).to.equal(null);
    expect(queryOf('')).to.deep.equal({});
  });
});
