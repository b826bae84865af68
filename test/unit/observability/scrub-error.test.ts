import { expect } from 'chai';
import { serializeError } from '../../../src/observability/scrub-error';

describe('serializeError (logs never carry a Redis password)', () => {
  it("hides the arguments of a refused AUTH or HELLO, also inside a cause, and keeps other commands' arguments", () => {
    const refused = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['replygate', 'hunter2'] },
    });
    const wrapped = new Error('start-up failed', { cause: refused });
    const hello = Object.assign(new Error('NOPERM'), {
      command: { name: 'HELLO', args: ['3', 'AUTH', 'u', 'hunter2'] },
    });
    const other = Object.assign(new Error('MOVED'), { command: { name: 'get', args: ['rg:reply:x'] } });
    const text = JSON.stringify([serializeError(refused), serializeError(wrapped), serializeError(hello)]);
    expect(text).not.to.contain('hunter2');
    expect(text).to.contain('WRONGPASS');
    expect(serializeError(other)).to.deep.include({ command: { name: 'get', args: ['rg:reply:x'] } });
  });
});
