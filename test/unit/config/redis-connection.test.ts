import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseServeFlags } from '../../../src/cli/parse-flags';
import { loadGatewayConfig } from '../../../src/config/load-config';
import { loadRedisConnection } from '../../../src/config/load-redis-connection';
import { adminSettings } from '../../../src/ingress/admin/admin-settings';
import { resolveRedisTarget } from '../../../src/redis/redis-target';
import { configErrorOf } from '../../support/config-error';

const BASE = { REPLYGATE_ROUTES: 'routes.yaml' };
const SECRET = 'hunter2-redis-secret';

function secretFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'replygate-redis-secret-')), 'password');
  writeFileSync(file, content);
  return file;
}

describe('Redis connection settings', () => {
  it('defaults to one Redis at redis://127.0.0.1:6379/0, no TLS, no ACL user (as before the other shapes)', () => {
    const config = loadGatewayConfig({ ...BASE });
    expect(config.redisUrl).to.equal('redis://127.0.0.1:6379/0');
    const target = resolveRedisTarget(loadRedisConnection({}));
    expect(target).to.deep.include({ mode: 'standalone', url: 'redis://127.0.0.1:6379/0', options: {} });
    expect(target.settings.map((s) => s.env)).to.deep.equal(['REDIS_URL']);
  });

  it('takes the cluster shape from REDIS_CLUSTER_NODES, with no REDIS_URL default', () => {
    const config = loadGatewayConfig({ ...BASE, REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, 10.0.0.2:7001 ' });
    expect(config.redisUrl).to.equal(undefined);
    const target = resolveRedisTarget(config);
    expect(target.mode).to.equal('cluster');
    expect(target.clusterNodes).to.deep.equal([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(target.address).to.equal('10.0.0.1:7000,10.0.0.2:7001');
    expect(target.settings.map((s) => s.env)).to.deep.equal(['REDIS_CLUSTER_NODES']);
  });

  it('takes the Sentinel shape from REDIS_SENTINELS and REDIS_SENTINEL_MASTER, and requires the master name', () => {
    const target = resolveRedisTarget(
      loadRedisConnection({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_MASTER: 'mymaster' }),
    );
    expect(target).to.deep.include({
      mode: 'sentinel',
      sentinelMaster: 'mymaster',
      address: 'mymaster@s1:26379,s2:26379',
    });
    const err = configErrorOf(() => loadGatewayConfig({ ...BASE, REDIS_SENTINELS: 's1:26379' }));
    expect(err.message).to.contain('REDIS_SENTINEL_MASTER (--redis-sentinel-master): required with REDIS_SENTINELS');
  });

  it('refuses two shapes at once, and REDIS_URL beside another shape, naming the setting', () => {
    const both = configErrorOf(() =>
      loadGatewayConfig({ ...BASE, REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_MASTER: 'm' }),
    );
    expect(both.message).to.contain('REDIS_SENTINELS (--redis-sentinels): give one deployment shape');
    const url = configErrorOf(() =>
      loadGatewayConfig({ ...BASE, REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://b:2' }),
    );
    expect(url.message).to.contain(
      'REDIS_URL (--redis-url): only for a single Redis; unset it with REDIS_CLUSTER_NODES',
    );
  });

  it('refuses sentinel settings without sentinels, and bad addresses', () => {
    const err = configErrorOf(() => loadRedisConnection({ REDIS_SENTINEL_MASTER: 'm', REDIS_SENTINEL_USERNAME: 'u' }));
    expect(err.issues).to.deep.equal([
      'REDIS_SENTINEL_MASTER (--redis-sentinel-master): only with REDIS_SENTINELS',
      'REDIS_SENTINEL_USERNAME (--redis-sentinel-username): only with REDIS_SENTINELS',
    ]);
    const bad = configErrorOf(() => loadRedisConnection({ REDIS_CLUSTER_NODES: 'a:1,b' }));
    expect(bad.message).to.contain('REDIS_CLUSTER_NODES (--redis-cluster-nodes): each address must be host:port');
  });

  it('wants TLS for TLS files, both halves of a client certificate, and a rediss:// URL counts as TLS', () => {
    const err = configErrorOf(() => loadRedisConnection({ REDIS_TLS_CA_FILE: '/ca.pem' }));
    expect(err.message).to.contain('REDIS_TLS_CA_FILE (--redis-tls-ca-file): needs REDIS_TLS=true');
    const half = configErrorOf(() => loadRedisConnection({ REDIS_TLS: 'true', REDIS_TLS_CERT_FILE: '/c.pem' }));
    expect(half.message).to.contain('REDIS_TLS_KEY_FILE (--redis-tls-key-file): a client certificate needs both');
    const ca = secretFile('not really a CA');
    const target = resolveRedisTarget(
      loadRedisConnection({
        REDIS_URL: 'rediss://r:6380',
        REDIS_TLS_CA_FILE: ca,
        REDIS_TLS_SERVERNAME: 'redis.internal',
      }),
    );
    expect(target.options.tls?.servername).to.equal('redis.internal');
    expect(String(target.options.tls?.ca)).to.equal('not really a CA');
  });

  it('reads the password from REDIS_PASSWORD_FILE (one trailing newline dropped) for every shape', () => {
    const file = secretFile(`${SECRET}\n`);
    for (const shape of [{}, { REDIS_CLUSTER_NODES: 'a:1' }, { REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm' }]) {
      const target = resolveRedisTarget(
        loadRedisConnection({ ...shape, REDIS_USERNAME: 'replygate', REDIS_PASSWORD_FILE: file }),
      );
      expect(target.options).to.deep.include({ username: 'replygate', password: SECRET });
      expect(target.address).not.to.contain(SECRET);
    }
    const sentinel = resolveRedisTarget(
      loadRedisConnection({ REDIS_SENTINELS: 's:1', REDIS_SENTINEL_MASTER: 'm', REDIS_SENTINEL_PASSWORD_FILE: file }),
    );
    expect(sentinel.options.sentinelPassword).to.equal(SECRET);
  });

  it('names the setting and the path of a password file it cannot read, never a password', () => {
    const err = configErrorOf(() =>
      resolveRedisTarget(loadRedisConnection({ REDIS_PASSWORD_FILE: '/nonexistent/pw' })),
    );
    expect(err.message).to.contain(
      'REDIS_PASSWORD_FILE (--redis-password-file) /nonexistent/pw: cannot read (no such file)',
    );
    const empty = configErrorOf(() =>
      resolveRedisTarget(loadRedisConnection({ REDIS_PASSWORD_FILE: secretFile('\n') })),
    );
    expect(empty.message).to.contain('the file is empty');
  });

  it('refuses a password given both as a file and as the value, naming both variables', () => {
    const err = configErrorOf(() =>
      loadRedisConnection({
        REDIS_PASSWORD_FILE: '/pw',
        REDIS_PASSWORD: SECRET,
        REDIS_SENTINELS: 's:1',
        REDIS_SENTINEL_MASTER: 'm',
        REDIS_SENTINEL_PASSWORD_FILE: '/spw',
        REDIS_SENTINEL_PASSWORD: SECRET,
      }),
    );
    expect(err.issues).to.deep.equal([
      'REDIS_PASSWORD: give the password once: REDIS_PASSWORD_FILE or REDIS_PASSWORD',
      'REDIS_SENTINEL_PASSWORD: give the password once: REDIS_SENTINEL_PASSWORD_FILE or REDIS_SENTINEL_PASSWORD',
    ]);
    const one = configErrorOf(() => loadRedisConnection({ REDIS_PASSWORD_FILE: '/pw', REDIS_PASSWORD: SECRET }));
    expect(one.issues).to.deep.equal(['REDIS_PASSWORD: give the password once: REDIS_PASSWORD_FILE or REDIS_PASSWORD']);
  });

  it('never repeats a secret in an error, whatever is wrong', () => {
    const errors = [
      configErrorOf(() => loadRedisConnection({ REDIS_PASSWORD: SECRET, REDIS_PASSWORD_FILE: '/pw' })),
      configErrorOf(() => loadRedisConnection({ REDIS_URL: `redis://:${SECRET}@r:6379`, REDIS_PASSWORD: SECRET })),
      configErrorOf(() => loadRedisConnection({ REDIS_URL: `http://u:${SECRET}@r:6379` })),
      configErrorOf(() => loadRedisConnection({ REDIS_SENTINEL_PASSWORD: SECRET })),
      configErrorOf(() =>
        loadGatewayConfig({ ...BASE, REDIS_URL: `redis://:${SECRET}@r:6379`, REDIS_CLUSTER_NODES: 'a:1' }),
      ),
    ];
    for (const err of errors) {
      expect(err.issues.length).to.be.greaterThan(0);
      expect(err.message).not.to.contain(SECRET);
      expect(err.issues.join(' ')).not.to.contain(SECRET);
    }
  });

  it('has no flag for a password (ps would show it)', () => {
    expect(() => parseServeFlags(['--redis-password', SECRET])).to.throw(/Unknown option/);
    expect(() => parseServeFlags(['--redis-sentinel-password', SECRET])).to.throw(/Unknown option/);
    expect(parseServeFlags(['--redis-password-file', '/pw'])).to.deep.include({ redisPasswordFile: '/pw' });
  });

  it('shows the shape and address on /admin/settings, never a password', () => {
    const fromUrl = adminSettings(
      loadGatewayConfig({ ...BASE, REDIS_URL: `redis://u:${SECRET}@r:6379/2`, REPLYGATE_ADMIN_TOKEN: 'x'.repeat(16) }),
    );
    expect(fromUrl['redis']).to.deep.equal({
      mode: 'standalone',
      address: 'redis://***@r:6379/2',
      username: null,
      tls: false,
    });
    const cluster = adminSettings(
      loadGatewayConfig({ ...BASE, REDIS_CLUSTER_NODES: 'a:1', REDIS_USERNAME: 'rg', REDIS_PASSWORD: SECRET }),
    );
    expect(cluster['redis']).to.deep.equal({ mode: 'cluster', address: 'a:1', username: 'rg', tls: false });
    expect(JSON.stringify([fromUrl, cluster])).not.to.contain(SECRET);
  });
});
