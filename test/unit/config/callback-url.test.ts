import { expect } from 'chai';
import { checkCallbackUrl, normalizeAllowPrefix } from '../../../src/config/callback-url';

describe('callback URL allow-list', () => {
  const allow = ['https://hooks.example.com/replygate', 'http://127.0.0.1:9000'].map((p) => normalizeAllowPrefix(p)!);

  it('normalises prefixes with the URL parser', () => {
    expect(normalizeAllowPrefix('HTTP://127.0.0.1:9000')).to.equal('http://127.0.0.1:9000/');
    expect(normalizeAllowPrefix('https://Hooks.Example.com:443/a')).to.equal('https://hooks.example.com/a');
    expect(normalizeAllowPrefix('ftp://x/')).to.equal(undefined);
    expect(normalizeAllowPrefix('https://u:p@x/')).to.equal(undefined);
    expect(normalizeAllowPrefix('/relative')).to.equal(undefined);
  });

  it('accepts URLs under an allowed prefix, at a boundary', () => {
    for (const ok of [
      'https://hooks.example.com/replygate',
      'https://hooks.example.com/replygate/orders?x=1',
      'https://hooks.example.com/replygate?x=1',
      'http://127.0.0.1:9000/anything',
      'http://127.0.0.1:9000',
    ]) {
      expect(checkCallbackUrl(ok, allow).ok, ok).to.equal(true);
    }
  });

  it('refuses everything else', () => {
    const cases: [string, string][] = [
      ['https://hooks.example.com/replygatex', 'not-allowed'],
      ['https://hooks.example.com.evil.net/replygate', 'not-allowed'],
      ['http://127.0.0.1:90001/', 'not-a-url'],
      ['http://127.0.0.1:9001/', 'not-allowed'],
      ['http://169.254.169.254/latest/meta-data', 'not-allowed'],
      ['http://127.0.0.1:9000@evil.example/', 'credentials'],
      ['http://user@127.0.0.1:9000/', 'credentials'],
      ['file:///etc/passwd', 'scheme'],
      ['gopher://127.0.0.1:9000/', 'scheme'],
      ['not a url', 'not-a-url'],
      [`http://127.0.0.1:9000/${'a'.repeat(2100)}`, 'not-a-url'],
    ];
    for (const [url, problem] of cases) {
      expect(checkCallbackUrl(url, allow), url).to.deep.equal({ ok: false, problem });
    }
  });

  it('compares the parsed form, so dot segments cannot climb out of a path prefix', () => {
    expect(checkCallbackUrl('https://hooks.example.com/replygate/../admin', allow).ok).to.equal(false);
    expect(checkCallbackUrl('https://hooks.example.com/replygate/%2e%2e/admin', allow).ok).to.equal(false);
  });
});
