import { expect } from 'chai';
import { ForbiddenError, RateLimitedError, UnauthenticatedError } from '../../../src/errors/auth-errors';
import { ReplygateError } from '../../../src/errors/replygate-error';
import { problemBody } from '../../../src/ingress/http/problem-response';

describe('authentication and rate-limit errors', () => {
  it('carry stable codes and statuses', () => {
    const cases: [ReplygateError, string, number, boolean][] = [
      [new UnauthenticatedError('missing', 'no key'), 'RG_UNAUTHENTICATED', 401, false],
      [new ForbiddenError('scope', ['a']), 'RG_FORBIDDEN', 403, false],
      [new RateLimitedError(10, 60, 5), 'RG_RATE_LIMITED', 429, true],
    ];
    for (const [err, code, status, retriable] of cases) {
      expect(err).to.be.instanceOf(ReplygateError);
      expect([err.code, err.status, err.retriable]).to.deep.equal([code, status, retriable]);
    }
  });

  it('tell the client what to do, never which secret failed', () => {
    expect(problemBody(new UnauthenticatedError('expired', 'The token has expired'), 'c').details).to.deep.equal({
      reason: 'expired',
    });
    expect(problemBody(new ForbiddenError('needs scopes', ['orders:write']), 'c').details).to.deep.equal({
      missingScopes: ['orders:write'],
    });
    expect(new RateLimitedError(10, 60, 5).message).to.include('REPLYGATE_RATE_LIMIT_POINTS');
  });
});
