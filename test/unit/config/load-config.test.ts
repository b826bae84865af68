import { expect } from 'chai';
import { CONFIG_SOURCES } from '../../../src/config/config-sources';
import { DEFAULT_FORWARD_HEADERS } from '../../../src/config/gateway-config';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { ConfigError } from '../../../src/errors/startup-errors';
import { INSTANCE_ID_PATTERN } from '../../../src/protocol/correlation-id';

/** The smallest environment that loads: the default role needs a routes file. */
const BASE = { REPLYGATE_ROUTES: '/etc/replygate/routes.yaml' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).to.equal('RG_CONFIG_INVALID');
    return e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadGatewayConfig', () => {
  it('applies every default', () => {
    const config = loadGatewayConfig({ ...BASE });
    expect(config).to.deep.include({
      kafkaBrokers: ['localhost:9092'],
      kafkaClientId: 'replygate',
      redisUrl: 'redis://127.0.0.1:6379/0',
      host: '0.0.0.0',
      port: 8080,
      routesFile: '/etc/replygate/routes.yaml',
      role: 'all',
      replyTopic: 'replygate.replies',
      replyTopicPartitions: 6,
      relayGroupId: 'replygate-relay',
      timeoutMs: 5000,
      replyTtlMs: 60_000,
      keyPrefix: 'rg:',
      maxBodyBytes: 1024 * 1024,
      maxReplyBytes: 1_048_588,
      maxReplyHeaders: 64,
      maxReplyHeaderBytes: 16 * 1024,
      maxPending: 10_000,
      redisConfigure: false,
      redisCheck: true,
      shutdownGraceMs: 10_000,
      logLevel: 'info',
    });
    expect(config.forwardHeaders).to.deep.equal([...DEFAULT_FORWARD_HEADERS]);
    expect(config.instanceId).to.match(INSTANCE_ID_PATTERN);
  });

  it('generates a different instance id for each load when none is set', () => {
    expect(loadGatewayConfig({ ...BASE }).instanceId).to.not.equal(loadGatewayConfig({ ...BASE }).instanceId);
  });

  it('reads numbers from the environment', () => {
    const config = loadGatewayConfig({
      ...BASE,
      PORT: '0',
      REPLYGATE_TIMEOUT_MS: '250',
      REPLYGATE_MAX_PENDING: '3',
      REPLYGATE_MAX_BODY_BYTES: '0',
    });
    expect(config.port).to.equal(0);
    expect(config.timeoutMs).to.equal(250);
    expect(config.maxPending).to.equal(3);
    expect(config.maxBodyBytes).to.equal(0);
  });

  /** Every setting the README documents with 0 meaning off / never / no limit. */
  const ZERO_MEANS_OFF = [
    ['REPLYGATE_NOTIFY_CHECK_INTERVAL_MS', 'notifyCheckIntervalMs'],
    ['REPLYGATE_RELAY_LAG_INTERVAL_MS', 'relayLagIntervalMs'],
    ['REPLYGATE_RELAY_COMMIT_INTERVAL_MS', 'relayCommitIntervalMs'],
    ['REPLYGATE_RECOVERY_TIMEOUT_MS', 'recoveryTimeoutMs'],
    ['REPLYGATE_RATE_LIMIT_POINTS', 'rateLimitPoints'],
    ['REPLYGATE_PRODUCER_LINGER_MS', 'producerLingerMs'],
    ['REPLYGATE_MAX_BODY_BYTES', 'maxBodyBytes'],
  ] as const;
  for (const [env, key] of ZERO_MEANS_OFF) {
    it(`reads ${env}=0 (off) from the environment and from a flag`, () => {
      expect(loadGatewayConfig({ ...BASE, [env]: '0' })[key]).to.equal(0);
      expect(loadGatewayConfig({ ...BASE }, { [key]: '0' })[key]).to.equal(0);
    });
  }

  it('still refuses a REPLYGATE_NOTIFY_CHECK_INTERVAL_MS between 0 and its minimum, naming the range', () => {
    expect(loadGatewayConfig({ ...BASE, REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: '500' }).notifyCheckIntervalMs).to.equal(
      500,
    );
    const err = configError(() => loadGatewayConfig({ ...BASE, REPLYGATE_NOTIFY_CHECK_INTERVAL_MS: '50' }));
    expect(err.message).to.contain('REPLYGATE_NOTIFY_CHECK_INTERVAL_MS').and.to.contain('use 0 (off)');
  });

  it("reads booleans 'true' and 'false' from the environment", () => {
    const on = loadGatewayConfig({ ...BASE, REPLYGATE_REDIS_CONFIGURE: 'true', REPLYGATE_REDIS_CHECK: 'false' });
    expect(on.redisConfigure).to.equal(true);
    expect(on.redisCheck).to.equal(false);
    const off = loadGatewayConfig({ ...BASE, REPLYGATE_REDIS_CONFIGURE: 'false', REPLYGATE_REDIS_CHECK: 'true' });
    expect(off.redisConfigure).to.equal(false);
    expect(off.redisCheck).to.equal(true);
  });

  it('splits and trims the broker list', () => {
    const config = loadGatewayConfig({ ...BASE, KAFKA_BROKERS: ' kafka-1:9092, kafka-2:9093 ,,kafka-3:19092' });
    expect(config.kafkaBrokers).to.deep.equal(['kafka-1:9092', 'kafka-2:9093', 'kafka-3:19092']);
  });

  it('splits, trims and lower-cases the forwarded header list', () => {
    const config = loadGatewayConfig({ ...BASE, REPLYGATE_FORWARD_HEADERS: 'X-Tenant, Accept ,,traceparent' });
    expect(config.forwardHeaders).to.deep.equal(['x-tenant', 'accept', 'traceparent']);
  });

  it('treats an empty environment variable as unset', () => {
    const config = loadGatewayConfig({ ...BASE, REPLYGATE_TIMEOUT_MS: '', KAFKA_BROKERS: '' });
    expect(config.timeoutMs).to.equal(5000);
    expect(config.kafkaBrokers).to.deep.equal(['localhost:9092']);
  });

  it('takes the instance id from REPLYGATE_INSTANCE_ID', () => {
    expect(loadGatewayConfig({ ...BASE, REPLYGATE_INSTANCE_ID: 'replica_A-1' }).instanceId).to.equal('replica_A-1');
  });

  it('lets flags win over the environment', () => {
    const config = loadGatewayConfig(
      {
        ...BASE,
        REPLYGATE_TIMEOUT_MS: '100',
        PORT: '9000',
        REPLYGATE_REDIS_CONFIGURE: 'false',
        REPLYGATE_ROLE: 'http',
      },
      { timeoutMs: '200', port: '9001', redisConfigure: true, role: 'relay' },
    );
    expect(config.timeoutMs).to.equal(200);
    expect(config.port).to.equal(9001);
    expect(config.redisConfigure).to.equal(true);
    expect(config.role).to.equal('relay');
  });

  it('uses the environment for settings no flag sets', () => {
    const config = loadGatewayConfig({ ...BASE, REPLYGATE_TIMEOUT_MS: '100' }, { port: '9001' });
    expect(config.timeoutMs).to.equal(100);
  });

  it('does not need a routes file for the relay role', () => {
    const config = loadGatewayConfig({ REPLYGATE_ROLE: 'relay' });
    expect(config.role).to.equal('relay');
    expect(config.routesFile).to.equal(undefined);
  });

  for (const role of ['all', 'http']) {
    it(`requires a routes file for role ${role}, naming REPLYGATE_ROUTES (--routes)`, () => {
      const err = configError(() => loadGatewayConfig({ REPLYGATE_ROLE: role }));
      expect(err.message).to.contain('REPLYGATE_ROUTES (--routes)');
      expect(err.issues.join('\n')).to.contain('REPLYGATE_ROUTES (--routes)');
    });
  }

  const invalid: [string, Record<string, string>, string][] = [
    ['a timeout that is not a number', { REPLYGATE_TIMEOUT_MS: 'soon' }, 'REPLYGATE_TIMEOUT_MS (--timeout-ms)'],
    ['a fractional timeout', { REPLYGATE_TIMEOUT_MS: '1.5' }, 'REPLYGATE_TIMEOUT_MS (--timeout-ms)'],
    ['a zero timeout', { REPLYGATE_TIMEOUT_MS: '0' }, 'REPLYGATE_TIMEOUT_MS (--timeout-ms)'],
    ['a port out of range', { PORT: '70000' }, 'PORT (--port)'],
    [
      'a boolean that is neither true nor false',
      { REPLYGATE_REDIS_CONFIGURE: 'banana' },
      'REPLYGATE_REDIS_CONFIGURE (--redis-configure)',
    ],
    ['a broker without a port', { KAFKA_BROKERS: 'kafka-1' }, 'KAFKA_BROKERS (--kafka-brokers)'],
    ['a broker list of commas only', { KAFKA_BROKERS: ',,' }, 'KAFKA_BROKERS (--kafka-brokers)'],
    ['a Redis URL of another scheme', { REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL (--redis-url)'],
    ['an unknown role', { REPLYGATE_ROLE: 'proxy' }, 'REPLYGATE_ROLE (--role)'],
    ['a bad reply topic', { REPLYGATE_REPLY_TOPIC: 'replies!' }, 'REPLYGATE_REPLY_TOPIC (--reply-topic)'],
    ['a key prefix with a glob character', { REPLYGATE_KEY_PREFIX: 'rg*' }, 'REPLYGATE_KEY_PREFIX (--key-prefix)'],
    ['an instance id with a dot', { REPLYGATE_INSTANCE_ID: 'replica.1' }, 'REPLYGATE_INSTANCE_ID (--instance-id)'],
    ['an instance id with a space', { REPLYGATE_INSTANCE_ID: 'replica 1' }, 'REPLYGATE_INSTANCE_ID (--instance-id)'],
    [
      'an instance id of 65 characters',
      { REPLYGATE_INSTANCE_ID: 'x'.repeat(65) },
      'REPLYGATE_INSTANCE_ID (--instance-id)',
    ],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL (--log-level)'],
  ];
  for (const [what, env, name] of invalid) {
    it(`rejects ${what}, naming ${name}`, () => {
      const err = configError(() => loadGatewayConfig({ ...BASE, ...env }));
      expect(err.message).to.contain(name);
      expect(err.issues.some((i) => i.startsWith(`${name}:`))).to.equal(true);
    });
  }

  it('names the variable and flag when the bad value came from a flag', () => {
    const err = configError(() => loadGatewayConfig({ ...BASE }, { timeoutMs: 'soon' }));
    expect(err.message).to.contain('REPLYGATE_TIMEOUT_MS (--timeout-ms)');
  });

  it('reports every bad setting at once', () => {
    const err = configError(() => loadGatewayConfig({ ...BASE, REPLYGATE_TIMEOUT_MS: 'x', PORT: 'y' }));
    expect(err.issues).to.have.length(2);
    expect(err.message).to.contain('REPLYGATE_TIMEOUT_MS (--timeout-ms)').and.to.contain('PORT (--port)');
  });

  it('declares an environment variable for every setting and a flag for every one but the secrets, each unique', () => {
    const envs = Object.values(CONFIG_SOURCES).map((s) => s.env);
    const flags = Object.values(CONFIG_SOURCES).flatMap((s) => (s.flag === undefined ? [] : [s.flag]));
    expect(new Set(envs).size).to.equal(envs.length);
    expect(new Set(flags).size).to.equal(flags.length);
    const flagless = Object.entries(CONFIG_SOURCES).filter(([, s]) => s.flag === undefined);
    expect(flagless.map(([key]) => key).sort()).to.deep.equal([
      'kafkaOauthClientSecret',
      'kafkaSaslPassword',
      'redisPassword',
      'redisSentinelPassword',
    ]);
  });
});
