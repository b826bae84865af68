import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RouteTable, type RouteReloadResult } from '../../../src/routing/route-table';
import { adminTokenMatches } from '../../../src/ingress/admin/admin-router';
import { parseRoutes } from '../../../src/config/routes-file';
import { silentLogger } from '../../../src/observability/logger';
import { waitFor } from '../../support/wait-for';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] as string[] } as unknown as Parameters<
  typeof parseRoutes
>[1];
const V1 = 'routes:\n  - { name: a, method: GET, path: /a, topic: ta }\n';
const V2 = 'routes:\n  - { name: b, method: GET, path: /b, topic: tb }\n';

function tempRoutes(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rg-routes-')), 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

describe('RouteTable', () => {
  it('swaps to a valid file and keeps the old routes for an invalid one', () => {
    const file = tempRoutes(V1);
    const results: RouteReloadResult[] = [];
    const table = new RouteTable(parseRoutes(V1, DEFAULTS), {
      file,
      defaults: DEFAULTS,
      log: silentLogger(),
      onReload: (r) => results.push(r),
    });
    const before = table.matcher;
    expect(table.matcher.match('GET', '/a').route.name).to.equal('a');

    writeFileSync(file, V2);
    expect(table.reload()).to.deep.equal({ ok: true, file, routes: 1 });
    expect(table.matcher).to.not.equal(before);
    expect(table.matcher.match('GET', '/b').route.name).to.equal('b');
    expect(() => table.matcher.match('GET', '/a')).to.throw();

    writeFileSync(file, 'routes:\n  - { name: c, method: GET, path: /c }\n');
    const bad = table.reload();
    expect(bad.ok).to.equal(false);
    expect(!bad.ok && bad.issues.join('\n')).to.match(/topic/);
    expect(table.routes.map((r) => r.name)).to.deep.equal(['b']);
    expect(results.map((r) => r.ok)).to.deep.equal([true, false]);
  });

  it('refuses to reload without a file', () => {
    const table = new RouteTable(parseRoutes(V1, DEFAULTS), { defaults: DEFAULTS, log: silentLogger() });
    expect(table.reload().ok).to.equal(false);
  });

  it('reloads on file change when watching', async () => {
    const file = tempRoutes(V1);
    const table = new RouteTable(parseRoutes(V1, DEFAULTS), { file, defaults: DEFAULTS, log: silentLogger() });
    table.watch(20);
    try {
      // The watcher takes its first stat asynchronously: a single early write could become its
      // baseline, so keep changing the file until the reload is seen.
      let n = 0;
      await waitFor(
        () => {
          writeFileSync(file, `${V2}  - { name: c, method: GET, path: /c, topic: tc }\n# ${n++}\n`);
          return table.routes.length === 2;
        },
        10_000,
        'the watched file to reload',
        100,
      );
      expect(table.routes.map((r) => r.name)).to.deep.equal(['b', 'c']);
    } finally {
      table.close();
    }
  });
});

describe('admin token comparison', () => {
  const token = 'a-very-long-admin-token';
  it('accepts only "Bearer <token>"', () => {
    expect(adminTokenMatches(`Bearer ${token}`, token)).to.equal(true);
    expect(adminTokenMatches(`bearer ${token}`, token)).to.equal(true);
    expect(adminTokenMatches(token, token)).to.equal(false);
    expect(adminTokenMatches(`Bearer ${token}x`, token)).to.equal(false);
    expect(adminTokenMatches('Bearer short', token)).to.equal(false);
    expect(adminTokenMatches(undefined, token)).to.equal(false);
    expect(adminTokenMatches('Bearer ', token)).to.equal(false);
  });
});
