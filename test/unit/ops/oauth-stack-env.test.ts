import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { parseStackEnv } from '../../../examples/demo/stack-env';

const STACK = resolve(__dirname, '../../../scripts/stack.sh');

/** A stack dir as `up` leaves it (nothing running): `env` and `status` read only ports.env. */
function stackDir(mechanisms: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'replygate-stack-oauth-'));
  writeFileSync(join(dir, '.replygate-stack'), '');
  writeFileSync(
    join(dir, 'ports.env'),
    [
      'REDIS_PORT=23101',
      'KAFKA_PORT=23102',
      'CONTROLLER_PORT=23103',
      'REDIS_NOTIFY=K\\$',
      'KAFKA_NODES=1',
      'KAFKA_VERSION=4',
      'KAFKA_SECURITY=sasl_ssl',
      `KAFKA_SASL_MECHS=${mechanisms}`,
      'KAFKA_ACLS=true',
      'OAUTH_PORT=23105',
      'OAUTH_LIFETIME=30',
      'KAFKA_PORT_1=23102',
      'CONTROLLER_PORT_1=23103',
      'INTERNAL_PORT_1=23104',
      '',
    ].join('\n'),
  );
  return dir;
}

const run = (dir: string, command: string): string =>
  execFileSync('bash', [STACK, command], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', REPLYGATE_STACK_DIR: dir },
    stdio: ['ignore', 'pipe', 'ignore'],
  });

describe('scripts/stack.sh env output of an OAUTHBEARER stack', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('prints the token URL and each user’s client-secret file; no password files without SCRAM or PLAIN', () => {
    const dir = stackDir('OAUTHBEARER');
    dirs.push(dir);
    const vars = parseStackEnv(run(dir, 'env'));
    expect(vars).to.include({
      STACK_KAFKA_SASL_ENABLED_MECHANISMS: 'OAUTHBEARER',
      STACK_KAFKA_OAUTH_TOKEN_URL: 'http://127.0.0.1:23105/token',
      STACK_KAFKA_USER: 'replygate',
      STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE: join(dir, 'secrets/replygate.oauth-secret'),
      STACK_KAFKA_ADMIN_USER: 'admin',
      STACK_KAFKA_ADMIN_OAUTH_CLIENT_SECRET_FILE: join(dir, 'secrets/admin.oauth-secret'),
      STACK_KAFKA_GUEST_USER: 'guest',
      STACK_KAFKA_GUEST_OAUTH_CLIENT_SECRET_FILE: join(dir, 'secrets/guest.oauth-secret'),
      STACK_KAFKA_CA_FILE: join(dir, 'tls/ca.crt'),
    });
    expect(Object.keys(vars).filter((k) => k.includes('PASSWORD'))).to.deep.equal([]);
    expect(Object.keys(vars).filter((k) => /SECRET$|TOKEN$/.test(k))).to.deep.equal([]);
    // `up` reads STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC: eval'ing the output must not set it
    expect(vars).to.not.have.property('STACK_KAFKA_OAUTH_TOKEN_LIFETIME_SEC');
  });

  it('prints both the password and the client-secret files when SCRAM is enabled too', () => {
    const dir = stackDir('SCRAM-SHA-512,OAUTHBEARER');
    dirs.push(dir);
    const vars = parseStackEnv(run(dir, 'env'));
    expect(vars).to.include({
      STACK_KAFKA_PASSWORD_FILE: join(dir, 'secrets/replygate.password'),
      STACK_KAFKA_OAUTH_CLIENT_SECRET_FILE: join(dir, 'secrets/replygate.oauth-secret'),
      STACK_KAFKA_GUEST_PASSWORD_FILE: join(dir, 'secrets/guest.password'),
      STACK_KAFKA_OAUTH_TOKEN_URL: 'http://127.0.0.1:23105/token',
    });
  });

  it('lists the token endpoint in `status`', () => {
    const dir = stackDir('OAUTHBEARER');
    dirs.push(dir);
    expect(run(dir, 'status')).to.include('oauth: stopped (port 127.0.0.1:23105)');
  });
});
