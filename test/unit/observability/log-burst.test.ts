import { expect } from 'chai';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LogBurst } from '../../../src/observability/log-burst';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'warn' }, stream) };
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('LogBurst', () => {
  it('writes the first failure of a window in full and one summary with the count of the rest', async () => {
    const { lines, log } = capture();
    const burst = new LogBurst(log, 'publish failed', 40);
    for (let i = 0; i < 100; i++) burst.warn({ correlationId: `c${i}`, topic: 't' });
    await tick(5);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include({ msg: 'publish failed', correlationId: 'c0', topic: 't' });
    await tick(80);
    expect(lines).to.have.length(2);
    expect(lines[1]).to.include({ repeated: 99, correlationId: 'c99', windowMs: 40 });
    expect(String(lines[1]!['msg'])).to.match(/^publish failed \(99 more/);
  });

  it('starts a new window after one ends, and writes no summary for a window of one', async () => {
    const { lines, log } = capture();
    const burst = new LogBurst(log, 'could not read reply from Redis', 20);
    burst.warn({ correlationId: 'a' });
    await tick(50);
    burst.warn({ correlationId: 'b' });
    await tick(5);
    expect(lines.map((l) => l['correlationId'])).to.deep.equal(['a', 'b']);
    expect(lines.every((l) => l['repeated'] === undefined)).to.equal(true);
  });
});
