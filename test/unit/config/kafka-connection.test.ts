import { expect } from 'chai';
import { loadKafkaConnection, parseKafkaConnection } from '../../../src/config/load-kafka-connection';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { parseServeFlags } from '../../../src/cli/parse-flags';
import { configErrorOf } from '../../support/config-error';

const BASE = { REPLYGATE_ROUTES: 'routes.yaml' };
const SECRET = 'hunter2-very-secret';

describe('Kafka connection settings', () => {
  it('defaults to PLAINTEXT with nothing else set', () => {
    const c = loadKafkaConnection({});
    expect(c.kafkaSecurityProtocol).to.equal('PLAINTEXT');
    expect(c.kafkaSaslMechanism).to.equal(undefined);
    expect(c.kafkaTlsInsecureSkipVerify).to.equal(false);
  });

  it('accepts SCRAM over SASL_SSL, protocol and mechanism in any case', () => {
    const c = loadKafkaConnection({
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD_FILE: '/run/secrets/kafka',
      KAFKA_TLS_CA_FILE: '/etc/ca.pem',
    });
    expect(c.kafkaSecurityProtocol).to.equal('SASL_SSL');
    expect(c.kafkaSaslMechanism).to.equal('SCRAM-SHA-512');
  });

  it('names the mechanism a SASL protocol needs, and lists the ones it could be', () => {
    const err = configErrorOf(() => loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }));
    expect(err.message).to.contain('KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism): required with SASL_SSL');
    expect(err.message).to.contain('SCRAM-SHA-512');
  });

  it('refuses an unknown mechanism by its setting', () => {
    const err = configErrorOf(() =>
      loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'GSSAPI' }),
    );
    expect(err.message).to.contain('KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism)');
  });

  it('refuses SASL and TLS settings on a protocol without them', () => {
    const err = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_TLS_CA_FILE: '/ca.pem',
        KAFKA_TLS_INSECURE_SKIP_VERIFY: 'true',
      }),
    );
    expect(err.issues.join('\n')).to.contain('KAFKA_SASL_MECHANISM').and.to.contain('KAFKA_TLS_CA_FILE');
    expect(err.issues.join('\n')).to.contain('KAFKA_TLS_INSECURE_SKIP_VERIFY');
  });

  it('needs a user and exactly one password source for PLAIN and SCRAM', () => {
    const missing = configErrorOf(() =>
      loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' }),
    );
    expect(missing.message).to.contain('KAFKA_SASL_USERNAME').and.to.contain('KAFKA_SASL_PASSWORD_FILE');
    const twice = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT',
        KAFKA_SASL_MECHANISM: 'PLAIN',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: '/p',
        KAFKA_SASL_PASSWORD: SECRET,
      }),
    );
    expect(twice.message).to.contain('KAFKA_SASL_PASSWORD:').and.not.to.contain('(--kafka-sasl-password)');
    expect(twice.message).not.to.contain(SECRET);
  });

  it('refuses a SASL password or an OAuth client secret given both as a file and as the value', () => {
    const sasl = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: '/p',
        KAFKA_SASL_PASSWORD: SECRET,
      }),
    );
    expect(sasl.issues).to.deep.equal([
      'KAFKA_SASL_PASSWORD: give the password once: KAFKA_SASL_PASSWORD_FILE or KAFKA_SASL_PASSWORD',
    ]);
    const oauth = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KAFKA_OAUTH_TOKEN_URL: 'https://idp.example/token',
        KAFKA_OAUTH_CLIENT_ID: 'gw',
        KAFKA_OAUTH_CLIENT_SECRET_FILE: '/s',
        KAFKA_OAUTH_CLIENT_SECRET: SECRET,
      }),
    );
    expect(oauth.issues).to.deep.equal([
      'KAFKA_OAUTH_CLIENT_SECRET: give the secret once: KAFKA_OAUTH_CLIENT_SECRET_FILE or KAFKA_OAUTH_CLIENT_SECRET',
    ]);
  });

  it('never repeats a secret in an error, whatever is wrong', () => {
    const err = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'PLAINTEXT',
        KAFKA_SASL_PASSWORD: SECRET,
        KAFKA_OAUTH_CLIENT_SECRET: SECRET,
      }),
    );
    expect(err.issues.length).to.be.greaterThan(0);
    expect(err.message).not.to.contain(SECRET);
  });

  it('wants a client certificate and its key together', () => {
    const err = configErrorOf(() =>
      loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_TLS_CERT_FILE: '/c.pem' }),
    );
    expect(err.message).to.contain('KAFKA_TLS_KEY_FILE');
  });

  it('needs token URL, client id and secret for OAUTHBEARER, or a provider module instead of them', () => {
    const missing = configErrorOf(() =>
      loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_SASL_MECHANISM: 'OAUTHBEARER' }),
    );
    expect(missing.message)
      .to.contain('KAFKA_OAUTH_TOKEN_URL')
      .and.to.contain('KAFKA_OAUTH_CLIENT_ID')
      .and.to.contain('KAFKA_OAUTH_CLIENT_SECRET_FILE');
    const module = loadKafkaConnection({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
      KAFKA_OAUTH_PROVIDER_MODULE: './msk-iam.js',
    });
    expect(module.kafkaOauthProviderModule).to.equal('./msk-iam.js');
    const both = configErrorOf(() =>
      loadKafkaConnection({
        KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
        KAFKA_SASL_MECHANISM: 'OAUTHBEARER',
        KAFKA_OAUTH_PROVIDER_MODULE: './msk-iam.js',
        KAFKA_OAUTH_TOKEN_URL: 'https://idp.example/token',
      }),
    );
    expect(both.message).to.contain('KAFKA_OAUTH_TOKEN_URL');
  });

  it('lets flags win over the environment, and has no flag for a secret', () => {
    const c = loadKafkaConnection({ KAFKA_SECURITY_PROTOCOL: 'SSL' }, { 'kafka-security-protocol': 'PLAINTEXT' });
    expect(c.kafkaSecurityProtocol).to.equal('PLAINTEXT');
    expect(() => parseServeFlags(['--kafka-sasl-password', SECRET])).to.throw(/Unknown option/);
    expect(() => parseServeFlags(['--kafka-oauth-client-secret', SECRET])).to.throw(/Unknown option/);
  });

  it('is part of the gateway configuration, checked the same way', () => {
    const ok = loadGatewayConfig({
      ...BASE,
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'gw',
      KAFKA_SASL_PASSWORD: SECRET,
    });
    expect(ok.kafkaSaslUsername).to.equal('gw');
    const err = configErrorOf(() => loadGatewayConfig({ ...BASE, KAFKA_SECURITY_PROTOCOL: 'SASL_SSL' }));
    expect(err.message).to.contain('KAFKA_SASL_MECHANISM (--kafka-sasl-mechanism)');
  });

  it('names the option, not the variable, when code passes the settings', () => {
    const err = configErrorOf(() =>
      parseKafkaConnection({ kafkaSecurityProtocol: 'SASL_SSL' }, (key) => `connection.${key}`),
    );
    expect(err.message).to.contain('connection.kafkaSaslMechanism');
  });

  it('takes a replication factor for the reply topic: -1 (broker default) or at least 1', () => {
    expect(loadGatewayConfig({ ...BASE }).replyTopicReplicationFactor).to.equal(-1);
    expect(
      loadGatewayConfig({ ...BASE, REPLYGATE_REPLY_TOPIC_REPLICATION_FACTOR: '3' }).replyTopicReplicationFactor,
    ).to.equal(3);
    const err = configErrorOf(() => loadGatewayConfig({ ...BASE, REPLYGATE_REPLY_TOPIC_REPLICATION_FACTOR: '0' }));
    expect(err.message).to.contain('REPLYGATE_REPLY_TOPIC_REPLICATION_FACTOR');
  });
});
