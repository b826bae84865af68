#!/usr/bin/env node
/* global process, console, Buffer, URL, URLSearchParams */
// A tiny OIDC-ish token endpoint for local stacks (scripts/stack.sh with OAUTHBEARER): the
// client-credentials grant of RFC 6749 §4.4, RS256 JWTs, and the JWKS the broker's
// OAuthBearerValidatorCallbackHandler validates them with. Not for production: one key, no
// rotation, clients from a file.
//
//   node scripts/oauth-server.mjs --clients <file> [--key <pem>] [--host 127.0.0.1] [--port 0]
//        [--issuer <url>] [--audience kafka] [--lifetime 300] [--scope kafka]
//
// Flags win over env: OAUTH_CLIENTS_FILE, OAUTH_SIGNING_KEY_FILE, OAUTH_HOST, OAUTH_PORT,
// OAUTH_ISSUER (default http://<host>:<port>), OAUTH_AUDIENCE (default kafka),
// OAUTH_TOKEN_LIFETIME_SEC (default 300), OAUTH_DEFAULT_SCOPE (default kafka).
//
// Clients file (JSON): {"clients": {"<client id>": {"secretFile": "<path>"} | {"secret": "<s>"}}}.
// Secret files are read at start-up. The signing key (PKCS#8 PEM, RSA) is created (mode 600) when
// --key names a file that does not exist, so restarts keep validating earlier tokens; without
// --key the key lives in memory only.
//
// API (everything JSON):
//   POST /token   grant_type=client_credentials, optional scope (space separated); client
//                 authentication by HTTP Basic (client_secret_basic) or client_id/client_secret in
//                 the form body (client_secret_post), not both. 200 {access_token, token_type:
//                 "Bearer", expires_in, scope}; 401 {error:"invalid_client"} for an unknown client
//                 or a wrong secret; 400 invalid_request / unsupported_grant_type.
//   GET  /jwks    {keys: [the RSA public key, kid, alg RS256, use sig]}
//   GET  /.well-known/openid-configuration   {issuer, token_endpoint, jwks_uri, ...}
//   GET  /stats   {tokensIssued, issuedByClient, refused}: tests see a refresh happen
// Tokens: header {alg: RS256, kid, typ: JWT}; claims sub (= client id), iss, aud, scope, iat, exp,
// jti. On start one line on stdout: {"msg":"listening","url":...,"tokenUrl":...,"jwksUrl":...}.
// Secrets and tokens are never logged.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(resolve(ROOT, 'package.json'));
const { SignJWT, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, calculateJwkThumbprint } = require('jose');

const MAX_BODY_BYTES = 64 * 1024;

/** Reads the clients file: a Map of client id -> secret. */
export function loadClients(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const clients = new Map();
  for (const [id, entry] of Object.entries(doc.clients ?? {})) {
    const secret = entry.secretFile
      ? readFileSync(resolve(dirname(file), entry.secretFile), 'utf8').trim()
      : entry.secret;
    if (typeof secret !== 'string' || secret === '') throw new Error(`client ${id}: no secret (secret or secretFile)`);
    clients.set(id, secret);
  }
  if (clients.size === 0) throw new Error(`${file}: no clients`);
  return clients;
}

async function loadSigningKey(file) {
  if (file && existsSync(file)) return importPKCS8(readFileSync(file, 'utf8'), 'RS256', { extractable: true });
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  if (file) writeFileSync(file, await exportPKCS8(privateKey), { mode: 0o600, flag: 'wx' });
  return privateKey;
}

// Compares digests, so neither the length nor the content of a secret leaks through timing.
const sameSecret = (a, b) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before the Base64 of Basic auth. */
function basicCredentials(header) {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function readBody(req) {
  return new Promise((resolveBody, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    pragma: 'no-cache',
    ...headers,
  });
  res.end(text);
}

/**
 * Starts the token server. Options: clients (Map id -> secret), keyFile, host, port, issuer,
 * audience, lifetimeSec, defaultScope. Resolves to {url, tokenUrl, jwksUrl, issuer, stats, close()}.
 */
export async function startOAuthServer(options) {
  const host = options.host ?? '127.0.0.1';
  const audience = options.audience ?? 'kafka';
  const lifetimeSec = Number(options.lifetimeSec ?? 300);
  if (!Number.isInteger(lifetimeSec) || lifetimeSec < 1)
    throw new Error(`token lifetime must be a positive integer of seconds, got ${options.lifetimeSec}`);
  const defaultScope = options.defaultScope ?? 'kafka';
  const clients = options.clients;
  const privateKey = await loadSigningKey(options.keyFile);
  const publicJwk = await exportJWK(privateKey);
  // Only the public members: the private JWK has d, p, q, ...
  const jwk = { kty: publicJwk.kty, n: publicJwk.n, e: publicJwk.e };
  jwk.kid = await calculateJwkThumbprint(jwk);
  Object.assign(jwk, { alg: 'RS256', use: 'sig' });
  const stats = { tokensIssued: 0, issuedByClient: {}, refused: 0 };
  let issuer = options.issuer;
  let base = '';

  async function token(req, res) {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const raw = await readBody(req);
    if (type !== 'application/x-www-form-urlencoded') {
      return send(res, 400, {
        error: 'invalid_request',
        error_description: 'expected application/x-www-form-urlencoded',
      });
    }
    const form = new URLSearchParams(raw);
    const basic = basicCredentials(req.headers.authorization);
    if (req.headers.authorization && !basic) {
      stats.refused++;
      return send(
        res,
        401,
        { error: 'invalid_client', error_description: 'malformed Basic credentials' },
        { 'www-authenticate': 'Basic realm="token"' },
      );
    }
    if (basic && form.has('client_secret')) {
      return send(res, 400, {
        error: 'invalid_request',
        error_description: 'use one client authentication method, not both',
      });
    }
    const id = basic ? basic.id : form.get('client_id');
    const secret = basic ? basic.secret : form.get('client_secret');
    const grant = form.get('grant_type');
    if (!grant) return send(res, 400, { error: 'invalid_request', error_description: 'grant_type is missing' });
    if (grant !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type' });
    const known = id != null ? clients.get(id) : undefined;
    if (known === undefined || secret == null || !sameSecret(secret, known)) {
      stats.refused++;
      console.log(
        JSON.stringify({
          msg: 'token refused',
          clientId: id ?? null,
          reason: known === undefined ? 'unknown client' : 'wrong secret',
        }),
      );
      return send(res, 401, { error: 'invalid_client' }, basic ? { 'www-authenticate': 'Basic realm="token"' } : {});
    }
    const scope = (form.get('scope') ?? defaultScope).trim();
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await new SignJWT({ scope })
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid, typ: 'JWT' })
      .setSubject(id)
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeSec)
      .setJti(randomUUID())
      .sign(privateKey);
    stats.tokensIssued++;
    stats.issuedByClient[id] = (stats.issuedByClient[id] ?? 0) + 1;
    console.log(
      JSON.stringify({ msg: 'token issued', clientId: id, scope, expiresIn: lifetimeSec, n: stats.tokensIssued }),
    );
    return send(res, 200, { access_token: accessToken, token_type: 'Bearer', expires_in: lifetimeSec, scope });
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = `${req.method} ${path}`;
    const handle = async () => {
      switch (route) {
        case 'POST /token':
          return token(req, res);
        case 'GET /jwks':
          return send(res, 200, { keys: [jwk] }, { 'cache-control': 'max-age=60' });
        case 'GET /.well-known/openid-configuration':
          return send(res, 200, {
            issuer,
            token_endpoint: `${base}/token`,
            jwks_uri: `${base}/jwks`,
            grant_types_supported: ['client_credentials'],
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
            id_token_signing_alg_values_supported: ['RS256'],
            response_types_supported: ['token'],
            subject_types_supported: ['public'],
          });
        case 'GET /stats':
          return send(res, 200, stats);
        default:
          if (['/token', '/jwks', '/stats', '/.well-known/openid-configuration'].includes(path))
            return send(res, 405, { error: 'method_not_allowed' });
          return send(res, 404, { error: 'not_found' });
      }
    };
    handle().catch((err) => {
      if (!res.headersSent)
        send(res, err.status ?? 500, { error: err.status === 413 ? 'invalid_request' : 'server_error' });
      else res.destroy();
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen({ host, port: Number(options.port ?? 0) }, ok);
  });
  const { port } = server.address();
  base = `http://${host}:${port}`;
  issuer ??= base;
  return {
    url: base,
    tokenUrl: `${base}/token`,
    jwksUrl: `${base}/jwks`,
    issuer,
    audience,
    stats,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string' },
      key: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      issuer: { type: 'string' },
      audience: { type: 'string' },
      lifetime: { type: 'string' },
      scope: { type: 'string' },
    },
  });
  const env = process.env;
  const clientsFile = values.clients ?? env.OAUTH_CLIENTS_FILE;
  if (!clientsFile) throw new Error('--clients <file> (or OAUTH_CLIENTS_FILE) is required');
  const server = await startOAuthServer({
    clients: loadClients(clientsFile),
    keyFile: values.key ?? env.OAUTH_SIGNING_KEY_FILE,
    host: values.host ?? env.OAUTH_HOST ?? '127.0.0.1',
    port: values.port ?? env.OAUTH_PORT ?? 0,
    issuer: values.issuer ?? env.OAUTH_ISSUER,
    audience: values.audience ?? env.OAUTH_AUDIENCE,
    lifetimeSec: values.lifetime ?? env.OAUTH_TOKEN_LIFETIME_SEC ?? 300,
    defaultScope: values.scope ?? env.OAUTH_DEFAULT_SCOPE,
  });
  console.log(
    JSON.stringify({
      msg: 'listening',
      url: server.url,
      tokenUrl: server.tokenUrl,
      jwksUrl: server.jwksUrl,
      issuer: server.issuer,
      audience: server.audience,
    }),
  );
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err) => {
    console.error(JSON.stringify({ msg: 'oauth-server failed', error: err.message }));
    process.exit(1);
  });
}
