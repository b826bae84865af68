import { expect } from 'chai';
import { isResponderError, ResponderError } from '../../../src/errors/responder-error';
import { replyForError } from '../../../src/responder/error-reply';

describe('ResponderError and replyForError', () => {
  it('carries status, message, details, code and cause', () => {
    const cause = new Error('db');
    const err = new ResponderError(409, 'already exists', { id: 'x' }, { code: 'CONFLICT', cause });
    expect(err).to.be.instanceOf(Error);
    expect(err.name).to.equal('ResponderError');
    expect(err).to.include({ status: 409, message: 'already exists', code: 'CONFLICT' });
    expect(err.details).to.deep.equal({ id: 'x' });
    expect(err.cause).to.equal(cause);
    expect(isResponderError(err)).to.equal(true);
    expect(isResponderError(new Error('x'))).to.equal(false);
  });

  it('defaults the code to SERVICE_ERROR', () => {
    expect(new ResponderError(404, 'nope').code).to.equal('SERVICE_ERROR');
  });

  it('maps a ResponderError to its status and JSON body', () => {
    const reply = replyForError(new ResponderError(422, 'bad body', { issues: [] }, { code: 'VALIDATION_FAILED' }));
    expect(reply).to.deep.equal({
      status: 422,
      body: { error: 'VALIDATION_FAILED', message: 'bad body', details: { issues: [] } },
    });
  });

  it('leaves details out when there are none', () => {
    expect(replyForError(new ResponderError(404, 'nope'))).to.deep.equal({
      status: 404,
      body: { error: 'SERVICE_ERROR', message: 'nope' },
    });
  });

  it('answers 500 for a ResponderError with a status that is not an error status', () => {
    expect(replyForError(new ResponderError(200, 'odd')).status).to.equal(500);
    expect(replyForError(new ResponderError(700, 'odd')).status).to.equal(500);
  });

  it('answers any other error with 500 and never leaks its message', () => {
    for (const err of [new Error('password=hunter2'), new TypeError('x is undefined'), 'string', undefined]) {
      expect(replyForError(err)).to.deep.equal({
        status: 500,
        body: { error: 'SERVICE_ERROR', message: 'internal error' },
      });
    }
  });
});
