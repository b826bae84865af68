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

  describe('a secured three-broker stack', () => {
    let secured: string;
    before(() => {
      secured = mkdtempSync(join(tmpdir(), 'replygate-stack-env-sec-'));
      writeFileSync(join(secured, '.replygate-stack'), '');
      writeFileSync(
        join(secured, 'ports.env'),
        [
          'REDIS_PORT=23001',
          'KAFKA_PORT=23002',
          'CONTROLLER_PORT=23003',
          'REDIS_NOTIFY=K\\$',
          'KAFKA_NODES=3',
          'KAFKA_VERSION=3.9',
          'KAFKA_SECURITY=sasl_ssl',
          'KAFKA_SASL_MECHS=SCRAM-SHA-512,PLAIN',
          'KAFKA_ACLS=true',
          'KAFKA_PORT_1=23002',
          'CONTROLLER_PORT_1=23003',
          'INTERNAL_PORT_1=23004',
          'KAFKA_PORT_2=23012',
          'CONTROLLER_PORT_2=23013',
          'INTERNAL_PORT_2=23014',
          'KAFKA_PORT_3=23022',
          'CONTROLLER_PORT_3=23023',
          'INTERNAL_PORT_3=23024',
          '',
        ].join('\n'),
      );
    });
    after(() => rmSync(secured, { recursive: true, force: true }));

    const envOf = (): string =>
      execFileSync('bash', [STACK, 'env'], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', REPLYGATE_STACK_DIR: secured },
        stdio: ['ignore', 'pipe', 'ignore'],
      });

    it('keeps KAFKA_BROKERS (all three) and REDIS_URL as the first two lines', () => {
      const lines = envOf().split('\n');
      expect(lines[0]).to.equal('export KAFKA_BROKERS=127.0.0.1:23002,127.0.0.1:23012,127.0.0.1:23022');
      expect(lines[1]).to.equal('export REDIS_URL=redis://127.0.0.1:23001/0');
    });

    it('adds how to connect: CA, users and password files, never a password', () => {
      const vars = parseStackEnv(envOf());
      expect(vars).to.include({
        REPLYGATE_STACK_DIR: secured,
        STACK_KAFKA_NODES: '3',
        STACK_KAFKA_PROTOCOL: 'SASL_SSL',
        STACK_KAFKA_SASL_ENABLED_MECHANISMS: 'SCRAM-SHA-512,PLAIN',
        STACK_KAFKA_ACLS_ENFORCED: 'true',
        STACK_KAFKA_CA_FILE: join(secured, 'tls/ca.crt'),
        STACK_KAFKA_USER: 'replygate',
        STACK_KAFKA_PASSWORD_FILE: join(secured, 'secrets/replygate.password'),
        STACK_KAFKA_ADMIN_USER: 'admin',
        STACK_KAFKA_GUEST_USER: 'guest',
      });
      expect(Object.keys(vars).filter((k) => /PASSWORD$/.test(k))).to.deep.equal([]);
      expect(vars).to.not.have.property('STACK_KAFKA_CLIENT_CERT_FILE');
      // none of the options `up` reads: eval'ing this must not make the next new stack a secured one
      for (const option of [
        'STACK_KAFKA_SECURITY',
        'STACK_KAFKA_BROKERS',
        'STACK_KAFKA_VERSION',
        'STACK_KAFKA_ACLS',
        'STACK_KAFKA_SASL_MECHANISMS',
      ]) {
        expect(vars).to.not.have.property(option);
      }
    });
  });

  describe('Redis Cluster and Sentinel stacks (STACK_REDIS_SHAPE)', () => {
    const dirs: string[] = [];
    after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

    // A stack dir as `up` leaves it for the given Redis option lines of ports.env.
    const envOfRedis = (lines: string[]): string => {
      const d = mkdtempSync(join(tmpdir(), 'replygate-stack-env-redis-'));
      dirs.push(d);
      writeFileSync(join(d, '.replygate-stack'), '');
      writeFileSync(
        join(d, 'ports.env'),
        ['REDIS_PORT=24001', 'KAFKA_PORT=24100', 'CONTROLLER_PORT=24101', 'REDIS_NOTIFY=K\\$', ...lines, ''].join('\n'),
      );
      return execFileSync('bash', [STACK, 'env'], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', REPLYGATE_STACK_DIR: d },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    };
    const nodePorts = (n: number, first: number, name = 'REDIS_PORT'): string[] =>
      Array.from({ length: n }, (_, i) => `${name}_${i + 1}=${first + i}`);

    it('a cluster: REDIS_CLUSTER_NODES (all six) as the second line and no REDIS_URL; ACL user and mTLS files', () => {
      const out = envOfRedis([
        'REDIS_SHAPE=cluster',
        'REDIS_ACL=1',
        'REDIS_TLS=mtls',
        'REDIS_NODES=6',
        'SENTINELS=0',
        ...nodePorts(6, 24001),
        ...nodePorts(6, 24011, 'REDIS_BUS_PORT'),
      ]);
      const lines = out.split('\n');
      expect(lines[0]).to.equal('export KAFKA_BROKERS=127.0.0.1:24100');
      expect(lines[1]).to.equal(
        `export REDIS_CLUSTER_NODES=${[24001, 24002, 24003, 24004, 24005, 24006].map((p) => `127.0.0.1:${p}`).join(',')}`,
      );
      // the gateway refuses REDIS_URL beside REDIS_CLUSTER_NODES: none, and one left by an earlier eval goes
      expect(lines).to.include('unset REDIS_URL');
      const vars = parseStackEnv(out);
      const d = vars['REPLYGATE_STACK_DIR']!;
      expect(vars).to.not.have.property('REDIS_URL');
      expect(vars).to.include({
        STACK_REDIS_TOPOLOGY: 'cluster',
        REDIS_TLS: 'true',
        REDIS_USERNAME: 'replygate',
        REDIS_PASSWORD_FILE: join(d, 'secrets/redis-replygate.password'),
        REDIS_TLS_CA_FILE: join(d, 'redis-tls/ca.crt'),
        REDIS_TLS_CERT_FILE: join(d, 'redis-tls/replygate.crt'),
        REDIS_TLS_KEY_FILE: join(d, 'redis-tls/replygate.key'),
      });
      expect(Object.keys(vars).filter((k) => /PASSWORD$/.test(k))).to.deep.equal([]);
      // none of the options `up` reads
      for (const option of ['STACK_REDIS_SHAPE', 'STACK_REDIS_ACL', 'STACK_REDIS_TLS', 'STACK_REDIS_ACL_KEY_PREFIX'])
        expect(vars).to.not.have.property(option);
    });

    it('eval of a cluster stack unsets a REDIS_URL an earlier eval exported', () => {
      envOfRedis(['REDIS_SHAPE=cluster', 'REDIS_NODES=6', 'SENTINELS=0', ...nodePorts(6, 24001)]);
      const seen = execFileSync(
        'bash',
        [
          '-c',
          'export REDIS_URL=redis://old:1/0; eval "$(bash "$STACK" env)"; bash -c \'echo "${REDIS_URL-none}|$REDIS_CLUSTER_NODES"\'',
        ],
        {
          encoding: 'utf8',
          env: { PATH: process.env['PATH'] ?? '', HOME: '/tmp', REPLYGATE_STACK_DIR: dirs.at(-1)!, STACK },
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      expect(seen.trim()).to.equal(
        'none|127.0.0.1:24001,127.0.0.1:24002,127.0.0.1:24003,127.0.0.1:24004,127.0.0.1:24005,127.0.0.1:24006',
      );
    });

    it('a sentinel set: the sentinels and the master name, no TLS lines without TLS', () => {
      const vars = parseStackEnv(
        envOfRedis([
          'REDIS_SHAPE=sentinel',
          'REDIS_NODES=3',
          'SENTINELS=3',
          'REDIS_MASTER_NAME=replygate',
          ...nodePorts(3, 24001),
          ...nodePorts(3, 24031, 'SENTINEL_PORT'),
        ]),
      );
      expect(vars).to.not.have.property('REDIS_URL');
      expect(vars).to.include({
        STACK_REDIS_TOPOLOGY: 'sentinel',
        REDIS_SENTINELS: '127.0.0.1:24031,127.0.0.1:24032,127.0.0.1:24033',
        REDIS_SENTINEL_MASTER: 'replygate',
      });
      expect(Object.keys(vars).filter((k) => k.startsWith('REDIS_TLS') || k.startsWith('REDIS_USER'))).to.deep.equal(
        [],
      );
    });
  });
});
