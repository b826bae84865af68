import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import { signWebhook, verifyWebhookSignature } from '../../../src/webhooks/webhook-signature';

describe('webhook signature', () => {
  const secret = 'a-secret-of-16-chars-or-more';

  it('is t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const header = signWebhook(secret, '{"a":1}', 1_700_000_000);
    const mac = createHmac('sha256', secret).update('1700000000.{"a":1}').digest('hex');
    expect(header).to.equal(`t=1700000000,v1=${mac}`);
  });

  it('verifies its own signature and refuses a changed body, another secret or an old timestamp', () => {
    const header = signWebhook(secret, 'body', 1_700_000_000);
    expect(verifyWebhookSignature(secret, 'body', header, { nowSec: 1_700_000_010 })).to.equal(true);
    expect(verifyWebhookSignature(secret, 'body!', header, { nowSec: 1_700_000_010 })).to.equal(false);
    expect(verifyWebhookSignature('another-secret-xxxxxx', 'body', header, { nowSec: 1_700_000_010 })).to.equal(false);
    expect(verifyWebhookSignature(secret, 'body', header, { nowSec: 1_700_001_000 })).to.equal(false);
    expect(verifyWebhookSignature(secret, 'body', undefined)).to.equal(false);
    expect(verifyWebhookSignature(secret, 'body', 't=abc,v1=00')).to.equal(false);
  });
});
