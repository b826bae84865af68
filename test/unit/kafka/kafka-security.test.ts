import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { loadKafkaConnection } from '../../../src/config/load-kafka-connection';
import { kafkaSecurityOptions } from '../../../src/kafka/kafka-security';
import { configErrorOf } from '../../support/config-error';

const PASSWORD = 'correct-horse-battery-staple';

/** A logger whose lines are kept, to look for warnings and for secrets. */
function capturingLogger(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: 'trace' }, sink), lines };
}

describe('kafkaSecurityOptions', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });

  before(function () {
    this.timeout(20_000);
    dir = mkdtempSync(join(tmpdir(), 'rg-kafka-tls-'));
    for (const [name, cn] of [
      ['ca', 'test-ca'],
      ['client', 'client'],
      ['other', 'other'],
    ] as const) {
      openssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        file(`${name}.key`),
        '-out',
        file(`${name}.crt`),
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
      );
    }
    openssl('pkey', '-in', file('client.key'), '-aes256', '-passout', 'pass:key-pass', '-out', file('client-enc.key'));
    writeFileSync(file('key-pass'), 'key-pass\n');
    writeFileSync(file('password'), `${PASSWORD}\n`);
    writeFileSync(file('empty'), '');
    writeFileSync(file('not-pem'), 'hello');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const tls = (extra: Record<string, string>) => loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL', ...extra });

  it('plaintext: no ssl, no sasl', () => {
    expect(kafkaSecurityOptions(loadKafkaConnection({}), pino({ level: 'silent' }))).to.deep.equal({});
  });

  it('reads the CA, certificate and key, and checks the key belongs to the certificate', () => {
    const { log } = capturingLogger();
    const opts = kafkaSecurityOptions(
      tls({
        KAFKA_TLS_CA_FILE: file('ca.crt'),
        KAFKA_TLS_CERT_FILE: file('client.crt'),
        KAFKA_TLS_KEY_FILE: file('client.key'),
      }),
      log,
    );
    expect(opts.ssl?.ca).to.have.length(1);
    expect(String(opts.ssl?.cert)).to.contain('BEGIN CERTIFICATE');
    expect(opts.ssl?.rejectUnauthorized).to.equal(undefined);
    const mismatch = configErrorOf(() =>
      kafkaSecurityOptions(
        tls({ KAFKA_TLS_CERT_FILE: file('client.crt'), KAFKA_TLS_KEY_FILE: file('other.key') }),
        log,
      ),
    );
    expect(mismatch.message).to.contain('KAFKA_TLS_KEY_FILE').and.to.contain('does not belong to the certificate');
  });

  it('names the setting and the path of a file that is missing or not PEM', () => {
    const { log } = capturingLogger();
    const missing = configErrorOf(() => kafkaSecurityOptions(tls({ KAFKA_TLS_CA_FILE: file('nope.crt') }), log));
    expect(missing.message).to.contain(
      `KAFKA_TLS_CA_FILE (--kafka-tls-ca-file) ${file('nope.crt')}: cannot read (no such file)`,
    );
    const garbage = configErrorOf(() => kafkaSecurityOptions(tls({ KAFKA_TLS_CA_FILE: file('not-pem') }), log));
    expect(garbage.message).to.contain('not a PEM certificate');
  });

  it('decrypts an encrypted key with its passphrase file, and names that file when it is wrong or missing', () => {
    const { log } = capturingLogger();
    const ok = kafkaSecurityOptions(
      tls({
        KAFKA_TLS_CERT_FILE: file('client.crt'),
        KAFKA_TLS_KEY_FILE: file('client-enc.key'),
        KAFKA_TLS_KEY_PASSWORD_FILE: file('key-pass'),
      }),
      log,
    );
    expect(ok.ssl?.passphrase).to.equal('key-pass');
    const none = configErrorOf(() =>
      kafkaSecurityOptions(
        tls({ KAFKA_TLS_CERT_FILE: file('client.crt'), KAFKA_TLS_KEY_FILE: file('client-enc.key') }),
        log,
      ),
    );
    expect(none.message).to.contain('KAFKA_TLS_KEY_PASSWORD_FILE');
  });

  it('warns at every build when certificate checks are off', () => {
    const { log, lines } = capturingLogger();
    const opts = kafkaSecurityOptions(tls({ KAFKA_TLS_INSECURE_SKIP_VERIFY: 'true' }), log);
    kafkaSecurityOptions(tls({ KAFKA_TLS_INSECURE_SKIP_VERIFY: 'true' }), log);
    expect(opts.ssl?.rejectUnauthorized).to.equal(false);
    const warnings = lines.filter((l) => l.includes('certificate checks are OFF'));
    expect(warnings).to.have.length(2);
    expect(JSON.parse(warnings[0]!).level).to.equal(40);
  });

  it('checks the brokers against the server name given', () => {
    const opts = kafkaSecurityOptions(tls({ KAFKA_TLS_SERVERNAME: 'kafka.internal' }), pino({ level: 'silent' }));
    expect(opts.ssl?.servername).to.equal('kafka.internal');
    const check = opts.ssl?.checkServerIdentity;
    expect(check).to.be.a('function');
    const cert = { subject: { CN: 'kafka.internal' }, subjectaltname: 'DNS:kafka.internal' } as never;
    expect(check?.('10.0.0.5', cert)).to.equal(undefined);
    expect(check?.('10.0.0.5', { subject: { CN: 'x' }, subjectaltname: 'DNS:other.host' } as never)).to.be.instanceOf(
      Error,
    );
  });

  it('builds SASL options from a password file without its trailing newline, and never logs the password', () => {
    const { log, lines } = capturingLogger();
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const opts = kafkaSecurityOptions(
        loadKafkaConnection({
          KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
          KAFKA_SASL_MECHANISM: mechanism,
          KAFKA_SASL_USERNAME: 'svc',
          KAFKA_SASL_PASSWORD_FILE: file('password'),
        }),
        log,
      );
      expect(opts.sasl).to.deep.include({ mechanism: mechanism.toLowerCase(), username: 'svc', password: PASSWORD });
    }
    expect(lines.some((l) => l.includes('sends the password unencrypted'))).to.equal(true);
    expect(lines.join('\n')).not.to.contain(PASSWORD);
    const empty = configErrorOf(() =>
      kafkaSecurityOptions(
        loadKafkaConnection({
          KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
          KAFKA_SASL_MECHANISM: 'PLAIN',
          KAFKA_SASL_USERNAME: 'svc',
          KAFKA_SASL_PASSWORD_FILE: file('empty'),
        }),
        log,
      ),
    );
    expect(empty.message).to.contain('KAFKA_SASL_PASSWORD_FILE').and.to.contain('empty');
  });

  it('gives OAUTHBEARER a token provider, and a provider module that cannot load fails naming its setting', async () => {
    const opts = kafkaSecurityOptions(
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KAFKA_OAUTH_PROVIDER_MODULE: file('no-such-module.js'),
      }),
      pino({ level: 'silent' }),
    );
    const sasl = opts.sasl as { mechanism: string; oauthBearerProvider: () => Promise<unknown> };
    expect(sasl.mechanism).to.equal('oauthbearer');
    const err = await sasl.oauthBearerProvider().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.contain('KAFKA_OAUTH_PROVIDER_MODULE').and.to.contain('cannot load');
    writeFileSync(
      file('provider.js'),
      "exports.createOauthBearerProvider = () => async () => ({ value: 'signed-token' });\n",
    );
    const withModule = kafkaSecurityOptions(
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KAFKA_OAUTH_PROVIDER_MODULE: file('provider.js'),
      }),
      pino({ level: 'silent' }),
    ).sasl as { oauthBearerProvider: () => Promise<{ value: string }> };
    expect((await withModule.oauthBearerProvider()).value).to.equal('signed-token');
  });
});
