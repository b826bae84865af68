import { expect } from 'chai';
import { EventInterestLedger } from '../../../src/exchange/event-interest-ledger';
import type { EventInterest } from '../../../src/protocol/event-await';

const interest = (expiresAt: number): EventInterest => ({
  route: 'placeOrder',
  entity: 'e',
  since: 1,
  readState: false,
  stream: false,
  maxWaiters: 2,
  expiresAt,
});

describe('EventInterestLedger', () => {
  it('drops expired registrations as new ones come, so it does not grow with traffic', () => {
    const ledger = new EventInterestLedger();
    const now = Date.now();
    ledger.remember('a', interest(now - 10));
    ledger.remember('b', interest(now - 5));
    ledger.remember('c', interest(now + 60_000));
    expect(ledger.size).to.equal(1);
    expect(ledger.live(now).map(([id]) => id)).to.deep.equal(['c']);
  });

  it('live() leaves out an expired entry behind a live one, and forget() removes one', () => {
    const ledger = new EventInterestLedger();
    const now = Date.now();
    ledger.remember('long', interest(now + 60_000));
    ledger.remember('short', interest(now + 50));
    ledger.remember('other', interest(now + 60_000));
    ledger.forget('other');
    expect(ledger.live(now + 100).map(([id]) => id)).to.deep.equal(['long']);
  });
});
