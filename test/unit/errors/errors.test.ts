import { expect } from 'chai';
import {
  BadRequestError,
  BodyTooLargeError,
  IdempotencyKeyReusedError,
  InvalidJsonError,
  MethodNotAllowedError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
} from '../../../src/errors/http-errors';
import { ConfigError, RedisNotificationsDisabledError } from '../../../src/errors/startup-errors';
import { ERROR_CODES } from '../../../src/errors/error-codes';
import { isReplygateError, ReplygateError } from '../../../src/errors/replygate-error';
import {
  OverloadedError,
  PublishFailedError,
  ReplyMalformedError,
  ReplyTimeoutError,
  UnavailableError,
} from '../../../src/errors/reply-errors';

interface Case {
  error: ReplygateError;
  type: new (...args: never[]) => ReplygateError;
  code: string;
  status: number;
  retriable: boolean;
}

const cause = new Error('root cause');

const cases: Case[] = [
  {
    error: new RouteNotFoundError('GET', '/x'),
    type: RouteNotFoundError,
    code: 'RG_ROUTE_NOT_FOUND',
    status: 404,
    retriable: false,
  },
  {
    error: new MethodNotAllowedError('PUT', '/x', ['GET']),
    type: MethodNotAllowedError,
    code: 'RG_METHOD_NOT_ALLOWED',
    status: 405,
    retriable: false,
  },
  {
    error: new InvalidJsonError('Unexpected token'),
    type: InvalidJsonError,
    code: 'RG_INVALID_JSON',
    status: 400,
    retriable: false,
  },
  {
    error: new BadRequestError('key missing'),
    type: BadRequestError,
    code: 'RG_BAD_REQUEST',
    status: 400,
    retriable: false,
  },
  {
    error: new BodyTooLargeError(10),
    type: BodyTooLargeError,
    code: 'RG_BODY_TOO_LARGE',
    status: 413,
    retriable: false,
  },
  {
    error: new UnsupportedMediaTypeError('text/plain', ['application/json']),
    type: UnsupportedMediaTypeError,
    code: 'RG_UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    retriable: false,
  },
  {
    error: new IdempotencyKeyReusedError(),
    type: IdempotencyKeyReusedError,
    code: 'RG_IDEMPOTENCY_KEY_REUSED',
    status: 422,
    retriable: false,
  },
  {
    error: new ReplyMalformedError('bad status'),
    type: ReplyMalformedError,
    code: 'RG_REPLY_MALFORMED',
    status: 502,
    retriable: false,
  },
  {
    error: new PublishFailedError('orders', { cause }),
    type: PublishFailedError,
    code: 'RG_PUBLISH_FAILED',
    status: 503,
    retriable: true,
  },
  {
    error: new UnavailableError('draining'),
    type: UnavailableError,
    code: 'RG_UNAVAILABLE',
    status: 503,
    retriable: true,
  },
  { error: new OverloadedError(100), type: OverloadedError, code: 'RG_OVERLOADED', status: 503, retriable: true },
  {
    error: new ReplyTimeoutError('i.AAAAAAAAAAAAAAAAAAAAAA', 'orders', 250),
    type: ReplyTimeoutError,
    code: 'RG_REPLY_TIMEOUT',
    status: 504,
    retriable: true,
  },
  { error: new ConfigError('bad'), type: ConfigError, code: 'RG_CONFIG_INVALID', status: 500, retriable: false },
  {
    error: new RedisNotificationsDisabledError(''),
    type: RedisNotificationsDisabledError,
    code: 'RG_REDIS_NOTIFICATIONS_DISABLED',
    status: 500,
    retriable: false,
  },
];

describe('error hierarchy', () => {
  for (const c of cases) {
    it(`${c.type.name}: ${c.code}, ${c.status}, retriable=${c.retriable}`, () => {
      expect(c.error).to.be.instanceOf(c.type);
      expect(c.error).to.be.instanceOf(ReplygateError);
      expect(c.error).to.be.instanceOf(Error);
      expect(isReplygateError(c.error)).to.equal(true);
      expect(c.error.code).to.equal(c.code);
      expect(c.error.status).to.equal(c.status);
      expect(c.error.status).to.equal(ERROR_CODES[c.error.code]);
      expect(c.error.retriable).to.equal(c.retriable);
      expect(c.error.name).to.equal(c.type.name);
      expect(c.error.message).to.be.a('string').that.is.not.empty;
    });
  }

  it('tells the subclasses apart with instanceof', () => {
    for (const c of cases) {
      for (const other of cases) {
        if (other.type !== c.type) expect(c.error).to.not.be.instanceOf(other.type);
      }
    }
  });

  it('maps every code to an HTTP status', () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(status, code).to.be.within(400, 599);
      expect(code).to.match(/^RG_[A-Z_]+$/);
    }
  });

  it('keeps the cause, the correlation id and the details', () => {
    const err = new ReplygateError('RG_INTERNAL', 'failed', {
      cause,
      correlationId: 'i.AAAAAAAAAAAAAAAAAAAAAA',
      details: { a: 1 },
    });
    expect(err.cause).to.equal(cause);
    expect(err.correlationId).to.equal('i.AAAAAAAAAAAAAAAAAAAAAA');
    expect(err.details).to.deep.equal({ a: 1 });
    expect(err.retriable).to.equal(false);
    expect(new PublishFailedError('orders', { cause }).cause).to.equal(cause);
  });

  it('has no cause property when none was given', () => {
    expect(Object.prototype.hasOwnProperty.call(new BadRequestError('x'), 'cause')).to.equal(false);
  });

  it('carries the context of a timeout', () => {
    const err = new ReplyTimeoutError('i.AAAAAAAAAAAAAAAAAAAAAA', 'orders', 250);
    expect(err.correlationId).to.equal('i.AAAAAAAAAAAAAAAAAAAAAA');
    expect(err.topic).to.equal('orders');
    expect(err.waitedMs).to.equal(250);
    expect(err.details).to.deep.equal({ topic: 'orders', waitedMs: 250 });
    expect(err.message).to.contain('REPLYGATE_TIMEOUT_MS');
  });

  it('carries the allowed methods of a 405 and the limit of a 413', () => {
    expect(new MethodNotAllowedError('PUT', '/x', ['GET', 'POST']).details).to.deep.equal({
      method: 'PUT',
      path: '/x',
      allowed: ['GET', 'POST'],
    });
    const tooLarge = new BodyTooLargeError(10);
    expect(tooLarge.limitBytes).to.equal(10);
    expect(tooLarge.details).to.deep.equal({ limitBytes: 10 });
  });

  it('names the setting to change', () => {
    expect(new OverloadedError(100).message).to.contain('REPLYGATE_MAX_PENDING=100');
    expect(new BodyTooLargeError(10).message).to.contain('REPLYGATE_MAX_BODY_BYTES');
    expect(new RedisNotificationsDisabledError('').message).to.contain('notify-keyspace-events');
  });

  it('lets a caller override retriable where the subclass allows it', () => {
    expect(new UnavailableError('x', { retriable: false }).retriable).to.equal(false);
    // Retriable by default, but the options passed in take precedence.
    expect(new PublishFailedError('t', { retriable: false }).retriable).to.equal(false);
  });

  it('is not matched by isReplygateError for plain errors and non-errors', () => {
    expect(isReplygateError(new Error('x'))).to.equal(false);
    expect(isReplygateError({ code: 'RG_INTERNAL', status: 500 })).to.equal(false);
    expect(isReplygateError(undefined)).to.equal(false);
  });
});
