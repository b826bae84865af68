import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';

const ROOT = resolve(__dirname, '../..');

/**
 * Run `script` in a plain node child at the repo root: the package resolves its own name through
 * package.json `exports` to dist/, as it would for a consumer. (Inside mocha, tsx applies the
 * tsconfig `paths` and would load src/ instead.) Needs `npm run build`.
 */
function nodeEval(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' }).trim();
}

describe('public surface: the built package by its names', () => {
  before(function () {
    if (!existsSync(resolve(ROOT, 'dist/index.js')))
      throw new Error('dist/index.js missing: run `npm run build` first');
  });

  it("exports the gateway API as 'replygate'", () => {
    const out = nodeEval(
      "const g = require('replygate'); console.log(JSON.stringify([typeof g.GatewayServer, typeof g.loadGatewayConfig, typeof g.loadRoutesFile, typeof g.createLogger, typeof g.ReplygateError, typeof g.ERROR_CODES]))",
    );
    expect(JSON.parse(out)).to.deep.equal(['function', 'function', 'function', 'function', 'function', 'object']);
  });

  it("exports the responder kit as 'replygate/responder'", () => {
    const out = nodeEval(
      "const r = require('replygate/responder'); console.log(JSON.stringify([typeof r.createResponder, typeof r.ResponderError, typeof r.ConfigError]))",
    );
    expect(JSON.parse(out)).to.deep.equal(['function', 'function', 'function']);
  });

  it('keeps internals out of reach', () => {
    const out = nodeEval(
      "try { require('replygate/dist/replica/gateway-server'); console.log('reachable'); } catch (e) { console.log(e.code); }",
    );
    expect(out).to.equal('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
