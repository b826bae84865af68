import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { parseStackEnv } from '../../../examples/demo/stack-env';

const STACK = resolve(__dirname, '../../../scripts/stack.sh');

describe('scripts/stack.sh env output', () => {
  let dir: string;

  // A stack dir as `up` leaves it, with nothing running: `env` prints its lines all the same.
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'replygate-stack-env-'));
    writeFileSync(join(dir, '.replygate-stack'), '');
    writeFileSync(
      join(dir, 'ports.env'),
      'REDIS_PORT=23001\nKAFKA_PORT=23002\nCONTROLLER_PORT=23003\nREDIS_NOTIFY=K\\$\n',
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string): string =>
    execFileSync('bash', ['-c', script], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', REPLYGATE_STACK_DIR: dir, STACK },
      stdio: ['ignore', 'pipe', 'ignore'],
    });

  it('exports the variables to processes started after eval (the README usage)', () => {
    const seen = run('eval "$(bash "$STACK" env)"; bash -c \'echo "$KAFKA_BROKERS|$REDIS_URL"\'');
    expect(seen.trim()).to.equal('127.0.0.1:23002|redis://127.0.0.1:23001/0');
  });

  it('still works with the older `| sed "s/^/export /"` recipe', () => {
    const seen = run('eval "$(bash "$STACK" env | sed \'s/^/export /\')"; bash -c \'echo "$KAFKA_BROKERS"\'');
    expect(seen.trim()).to.equal('127.0.0.1:23002');
  });

  it('is read by parseStackEnv, the parser of the demo, the tests and the fault runner', () => {
    expect(parseStackEnv(run('bash "$STACK" env'))).to.deep.equal({
      KAFKA_BROKERS: '127.0.0.1:23002',
      REDIS_URL: 'redis://127.0.0.1:23001/0',
    });
  });

  it('parseStackEnv also takes lines without export, keeps "=" in values and skips noise', () => {
    expect(parseStackEnv('KAFKA_BROKERS=a:1,b:2\nnoise line\nexport   REDIS_URL=redis://:p=w@h:1/0\n')).to.deep.equal({
      KAFKA_BROKERS: 'a:1,b:2',
      REDIS_URL: 'redis://:p=w@h:1/0',
    });
  });
});
