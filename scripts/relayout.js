#!/usr/bin/env node
// Issue 12: move files per MOVES, then rewrite every relative import in src/ test/ bench/ examples/.
//
//   node /tmp/issue12-move.js plan      # print what would move; fail on unmapped src files
//   node /tmp/issue12-move.js rewrite   # BEFORE moving: resolve every import to the file that DECLARES
//                                       # each imported symbol (through barrels and re-export shims),
//                                       # then git mv and write the new specifiers
//
// Run from the repo root, on a clean tree (commit or stash first). Uses the repo's own `typescript`.
// Behaviour: only module specifiers (and, for barrel/shim imports, the split of one import into one
// import per declaring file) change. Nothing else in a file is touched.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const ts = require(path.resolve('node_modules/typescript'));

const ROOT = process.cwd();
const DIRS = ['src', 'test', 'bench', 'examples'];

// ---- The move table: old path (repo-relative) -> new path. Folders map by prefix (trailing '/').
// Longest matching key wins, so a file entry overrides its folder entry.
const MOVES = {
  // protocol
  'src/protocol/headers.ts': 'src/protocol/kafka-headers.ts',
  'src/observability/trace-context.ts': 'src/protocol/trace-context.ts',
  'src/transport/request-publisher.ts': 'src/protocol/outgoing-request.ts',
  'src/config/reserved-paths.ts': 'src/protocol/gateway-paths.ts',
  // errors
  'src/webhooks/callback-refused-error.ts': 'src/errors/callback-errors.ts',
  'src/webhooks/redis-eviction-policy-error.ts': 'src/errors/redis-eviction-policy-error.ts',
  'src/responder/responder-error.ts': 'src/errors/responder-error.ts',
  // config
  'src/webhooks/callback-settings.ts': 'src/config/route-callbacks.ts',
  'src/webhooks/callback-url.ts': 'src/config/callback-url.ts',
  'src/webhooks/callback-secret.ts': 'src/config/callback-secret.ts',
  // observability
  'src/logging/logger.ts': 'src/observability/logger.ts',
  'src/metrics/gateway-metrics.ts': 'src/observability/gateway-metrics.ts',
  'src/server/readiness.ts': 'src/observability/readiness.ts',
  'src/server/liveness.ts': 'src/observability/liveness.ts',
  // kafka
  'src/transport/': 'src/kafka/',
  'src/server/ensure-topic.ts': 'src/kafka/ensure-topic.ts',
  'src/server/kafka-probe.ts': 'src/kafka/kafka-probe.ts',
  // routing
  'src/admin/route-table.ts': 'src/routing/route-table.ts',
  'src/http/route-matcher.ts': 'src/routing/route-matcher.ts',
  'src/gateway/partition-key.ts': 'src/routing/partition-key.ts',
  'src/http/content-negotiation.ts': 'src/routing/content-negotiation.ts',
  // exchange
  'src/gateway/': 'src/exchange/',
  'src/store/reply-store.ts': 'src/exchange/reply-store.ts',
  'src/store/reply-notifier.ts': 'src/exchange/reply-notifier.ts',
  'src/server/local-wake-store.ts': 'src/exchange/local-wake-store.ts',
  'src/streaming/stream-registry.ts': 'src/exchange/stream-registry.ts',
  'src/streaming/gather-registry.ts': 'src/exchange/gather-registry.ts',
  'src/async/async-reply-registry.ts': 'src/exchange/async-reply-registry.ts',
  'src/async/watcher-limiter.ts': 'src/exchange/watcher-limiter.ts',
  'src/idempotency/': 'src/exchange/',
  // redis
  'src/store/': 'src/redis/',
  'src/server/redis-connections.ts': 'src/redis/redis-connections.ts',
  'src/server/redis-run-id.ts': 'src/redis/redis-run-id.ts',
  'src/webhooks/redis-eviction-check.ts': 'src/redis/redis-eviction-check.ts',
  // admission
  'src/http/request-stage.ts': 'src/admission/admission-context.ts',
  'src/http/security-stages.ts': 'src/admission/admission-stages.ts',
  'src/http/cors-stage.ts': 'src/admission/cors-stage.ts',
  'src/ratelimit/': 'src/admission/',
  'src/auth/': 'src/admission/auth/',
  // ingress
  'src/http/': 'src/ingress/http/',
  'src/async/': 'src/ingress/http/',
  'src/streaming/': 'src/ingress/http/',
  'src/ws/': 'src/ingress/ws/',
  'src/admin/': 'src/ingress/admin/',
  'src/openapi/': 'src/ingress/admin/',
  // replica
  'src/server/': 'src/replica/',
  // observability (folder remainder stays), relay, webhooks, responder, cli, config, errors, protocol: stay
  // examples
  'src/samples/': 'examples/samples/',
  'src/demo/': 'examples/demo/',
  // test/unit mirrors src (optional but recommended; same rewriter handles it)
  'test/unit/gateway/partition-key.test.ts': 'test/unit/routing/partition-key.test.ts',
  'test/unit/gateway/': 'test/unit/exchange/',
  'test/unit/http/route-matcher.test.ts': 'test/unit/routing/route-matcher.test.ts',
  'test/unit/http/': 'test/unit/ingress/',
  'test/unit/admin/': 'test/unit/routing/',
  'test/unit/auth/': 'test/unit/admission/',
  'test/unit/store/': 'test/unit/redis/',
  'test/unit/streaming/': 'test/unit/exchange/',
  'test/unit/transport/': 'test/unit/kafka/',
  'test/unit/server/': 'test/unit/exchange/',
  'test/unit/server/kafka-probe.test.ts': 'test/unit/kafka/kafka-probe.test.ts',
  'test/unit/server/liveness.test.ts': 'test/unit/observability/liveness.test.ts',
  'test/unit/openapi/': 'test/unit/ingress/',
  'test/unit/ws/': 'test/unit/ingress/',
  'test/unit/observability/trace-context.test.ts': 'test/unit/protocol/trace-context.test.ts',
  'test/unit/webhooks/callback-settings.test.ts': 'test/unit/config/route-callbacks.test.ts',
  'test/unit/webhooks/callback-url.test.ts': 'test/unit/config/callback-url.test.ts',
  'test/unit/webhooks/redis-eviction-check.test.ts': 'test/unit/redis/redis-eviction-check.test.ts',
  'test/unit/responder/basket-handler.test.ts': 'test/unit/examples/basket-handler.test.ts',
  'test/unit/responder/customers-handler.test.ts': 'test/unit/examples/customers-handler.test.ts',
  'test/unit/responder/echo-handler.test.ts': 'test/unit/examples/echo-handler.test.ts',
  'test/unit/responder/orders-handler.test.ts': 'test/unit/examples/orders-handler.test.ts',
  'test/unit/responder/sample-routes.test.ts': 'test/unit/examples/sample-routes.test.ts',
};
// Old barrels are deleted (new ones are written by hand per folder, see the plan §6); imports of
// them are rewritten to the declaring files, so no barrel needs to exist for the rewrite.
const isBarrel = (rel) => /(^|\/)index\.ts$/.test(rel);
// Folders that must be empty afterwards (a file left here is an unmapped file: the run fails).
const DISSOLVED = ['admin', 'async', 'auth', 'gateway', 'http', 'idempotency', 'logging', 'metrics', 'openapi',
  'ratelimit', 'server', 'store', 'streaming', 'transport', 'ws', 'samples', 'demo'].map((d) => `src/${d}/`);

function target(rel) {
  let best;
  for (const k of Object.keys(MOVES)) {
    if (k.endsWith('/') ? rel.startsWith(k) : rel === k) if (!best || k.length > best.length) best = k;
  }
  if (!best) return rel;
  return best.endsWith('/') ? MOVES[best] + rel.slice(best.length) : MOVES[best];
}

function walk(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (['node_modules', 'results', '.build', 'dist'].includes(e.name)) continue;
      walk(p, out);
    } else out.push(path.relative(ROOT, p));
  }
  return out;
}

const allFiles = DIRS.flatMap((d) => walk(d));
const moves = allFiles
  .filter((f) => !isBarrel(f) || !DISSOLVED.some((d) => f.startsWith(d)))
  .map((f) => [f, target(f)])
  .filter(([a, b]) => a !== b);
const unmapped = allFiles.filter((f) => DISSOLVED.some((d) => f.startsWith(d)) && !isBarrel(f) && target(f) === f);
const collisions = new Map();
for (const [a, b] of moves) collisions.set(b, [...(collisions.get(b) ?? []), a]);

function plan() {
  for (const [a, b] of moves) console.log(`${a.padEnd(52)} -> ${b}`);
  for (const [b, srcs] of collisions) if (srcs.length > 1) console.error(`COLLISION ${b} <- ${srcs.join(', ')}`);
  for (const [, b] of moves) if (fs.existsSync(b) && !moves.some(([a]) => a === b)) console.error(`EXISTS ${b}`);
  if (unmapped.length) {
    console.error(`UNMAPPED files in dissolved folders (add them to MOVES):\n  ${unmapped.join('\n  ')}`);
    process.exitCode = 1;
  }
  if ([...collisions.values()].some((s) => s.length > 1)) process.exitCode = 1;
}

// ---- Import analysis with the type checker: for each import specifier of a repo file, which repo
// file declares each imported name (following barrels and `export {x} from` shims, but stopping
// at the last repo file when the chain leaves the repo, e.g. `export type { Logger } from 'pino'`).
function declaringFile(checker, sym, fallbackFile) {
  let s = sym;
  let last = fallbackFile;
  for (let i = 0; i < 20 && s && s.flags & ts.SymbolFlags.Alias; i++) {
    const next = checker.getImmediateAliasedSymbol(s);
    if (!next) break;
    const decl = next.declarations?.[0];
    const file = decl?.getSourceFile().fileName;
    if (!file || !inRepo(file)) break; // left the repo (pino etc.): keep the re-exporting repo file
    last = file;
    s = next;
  }
  const decl = s?.declarations?.[0];
  if (decl && inRepo(decl.getSourceFile().fileName) && !(s.flags & ts.SymbolFlags.Alias)) last = decl.getSourceFile().fileName;
  return last;
}
const inRepo = (f) => {
  const rel = path.relative(ROOT, f);
  return !rel.startsWith('..') && !rel.includes('node_modules') && DIRS.some((d) => rel.startsWith(d + '/'));
};

function specifierFor(fromNew, toNewRel) {
  let s = path.relative(path.dirname(fromNew), toNewRel).replace(/\\/g, '/').replace(/\.ts$/, '');
  s = s.replace(/\/index$/, '');
  if (!s.startsWith('.')) s = './' + s;
  return s;
}

function rewrite() {
  plan();
  if (process.exitCode) throw new Error('fix the plan first');
  const files = allFiles.filter((f) => f.endsWith('.ts'));
  const program = ts.createProgram(files.map((f) => path.join(ROOT, f)), {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
    allowJs: false, noEmit: true, skipLibCheck: true, types: ['node', 'mocha'], esModuleInterop: true,
    resolveJsonModule: true,
  });
  const checker = program.getTypeChecker();
  const edits = new Map(); // newRel -> new text
  let changed = 0;
  for (const rel of files) {
    const sf = program.getSourceFile(path.join(ROOT, rel));
    if (!sf) continue;
    const newRel = target(rel);
    const text = sf.getFullText();
    const repl = []; // [start, end, newText]
    const visit = (node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const spec = node.moduleSpecifier.text;
        if (!spec.startsWith('.')) return;
        const resolved = ts.resolveModuleName(spec, sf.fileName, program.getCompilerOptions(), ts.sys).resolvedModule;
        if (!resolved || !inRepo(resolved.resolvedFileName)) {
          console.error(`UNRESOLVED ${rel}: '${spec}'`);
          process.exitCode = 1;
          return;
        }
        const targetRel = path.relative(ROOT, resolved.resolvedFileName);
        const viaBarrelOrShim = isBarrel(targetRel);
        const clause = ts.isImportDeclaration(node) ? node.importClause : undefined;
        const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
        if (ts.isImportDeclaration(node) && named && !clause.name) {
          // Group each imported name by its declaring file.
          const groups = new Map();
          for (const el of named) {
            const sym = checker.getSymbolAtLocation(el.name);
            const declFile = path.relative(ROOT, declaringFile(checker, sym, resolved.resolvedFileName));
            const key = declFile;
            groups.set(key, [...(groups.get(key) ?? []), el.getText(sf)]);
          }
          if (groups.size === 1 && !viaBarrelOrShim && [...groups.keys()][0] === targetRel) {
            const ns = specifierFor(newRel, target(targetRel));
            if (ns !== spec) repl.push([node.moduleSpecifier.getStart(sf) + 1, node.moduleSpecifier.getEnd() - 1, ns]);
            return;
          }
          const typeOnly = clause.isTypeOnly ? 'type ' : '';
          const lines = [...groups].map(([declFile, names]) =>
            `import ${typeOnly}{ ${names.join(', ')} } from '${specifierFor(newRel, target(declFile))}';`);
          repl.push([node.getStart(sf), node.getEnd(), lines.join('\n')]);
          return;
        }
        // default / namespace / side-effect imports and `export ... from`: retarget the specifier only.
        if (viaBarrelOrShim && DISSOLVED.some((d) => targetRel.startsWith(d))) {
          console.error(`MANUAL ${rel}: '${spec}' (non-named import of a dissolved barrel)`);
          process.exitCode = 1;
          return;
        }
        const ns = specifierFor(newRel, target(targetRel));
        if (ns !== spec) repl.push([node.moduleSpecifier.getStart(sf) + 1, node.moduleSpecifier.getEnd() - 1, ns]);
        return;
      }
      // import('...') and import types `import('...').X`
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const arg = node.arguments[0];
        if (arg && ts.isStringLiteral(arg) && arg.text.startsWith('.')) console.error(`MANUAL ${rel}: dynamic import('${arg.text}')`);
      }
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const spec = node.argument.literal.text;
        if (spec.startsWith('.')) console.error(`MANUAL ${rel}: import type node import('${spec}')`);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    if (repl.length || newRel !== rel) {
      let out = text;
      for (const [s, e, t] of repl.sort((a, b) => b[0] - a[0])) out = out.slice(0, s) + t + out.slice(e);
      if (isBarrel(rel) && DISSOLVED.some((d) => rel.startsWith(d))) continue; // old barrel: deleted, not moved
      edits.set(newRel, out);
      if (repl.length) changed++;
    }
  }
  if (process.exitCode) throw new Error('unresolved/manual imports above: fix, then rerun');
  // git mv (non-.ts files too: routes.yaml), then write the rewritten texts at the new paths.
  for (const [a, b] of moves) {
    fs.mkdirSync(path.dirname(b), { recursive: true });
    let tracked = true;
    try { execFileSync('git', ['ls-files', '--error-unmatch', a], { stdio: 'ignore' }); } catch { tracked = false; }
    if (tracked) execFileSync('git', ['mv', a, b], { stdio: 'inherit' });
    else fs.renameSync(a, b); // untracked (another helper's new file): plain move, `git add` later
  }
  for (const d of DISSOLVED) {
    const idx = d + 'index.ts';
    if (fs.existsSync(idx)) execFileSync('git', ['rm', '-qf', idx]);
    if (fs.existsSync(d) && walk(d.slice(0, -1)).length === 0) fs.rmSync(d, { recursive: true });
  }
  for (const [newRel, out] of edits) {
    fs.writeFileSync(newRel, out);
  }
  console.error(`moved ${moves.length} files, rewrote imports in ${changed} files`);
  // Leftovers: text mentions of old paths (docs, scripts, comments, string paths like routes.yaml).
  const oldPaths = moves.map(([a]) => a.replace(/\.ts$/, ''));
  const grepTargets = ['README.md', 'docs', 'scripts', 'Dockerfile', 'docker-compose.yml', 'package.json',
    'tsconfig.json', 'bench/tsconfig.json', ...DIRS];
  const hits = [];
  for (const f of grepTargets.flatMap((t) => (fs.existsSync(t) && fs.statSync(t).isDirectory() ? walk(t) : [t]))) {
    if (!fs.existsSync(f) || /\.(png|jpg|json\.gz)$/.test(f) || f.startsWith('bench/results')) continue;
    const txt = fs.readFileSync(f, 'utf8');
    for (const p of [...oldPaths, ...DISSOLVED.map((d) => d.slice(0, -1))]) {
      const re = new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?![\\w-])');
      if (re.test(txt)) hits.push(`${f}: mentions ${p}`);
    }
  }
  if (hits.length) console.error(`TEXT MENTIONS to update by hand (or sed with the table):\n  ${[...new Set(hits)].join('\n  ')}`);
}

const cmd = process.argv[2];
if (cmd === 'plan') plan();
else if (cmd === 'rewrite') rewrite();
else console.error('usage: issue12-move.js plan|rewrite');
