import { expect } from 'chai';
import { parseRoutes } from '../../../src/config/routes-file';
import { ConfigError } from '../../../src/errors/startup-errors';

const DEFAULTS = {
  timeoutMs: 5000,
  maxBodyBytes: 1024,
  forwardHeaders: ['accept', 'x-request-id', 'authorization', 'cookie'],
};

function configError(yaml: string): ConfigError {
  try {
    parseRoutes(yaml, DEFAULTS);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.code).to.equal('RG_CONFIG_INVALID');
    return e;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRoutes', () => {
  it('parses a valid file and applies defaults from the route schema and the gateway config', () => {
    const routes = parseRoutes(
      `
routes:
  - method: get
    path: /orders/:orderId
    topic: orders.requests
`,
      DEFAULTS,
    );
    expect(routes).to.have.length(1);
    const r = routes[0]!;
    expect(r).to.deep.include({
      name: 'GET /orders/:orderId',
      method: 'GET',
      path: '/orders/:orderId',
      topic: 'orders.requests',
      timeoutMs: 5000,
      maxBodyBytes: 1024,
      dialect: 'replygate',
      forwardAuthorization: false,
      forwardCookie: false,
      replyContentType: 'application/json',
    });
    expect(r.accepts).to.deep.equal(['application/json']);
    expect(r.key).to.equal(undefined);
    // The gateway defaults name authorization and cookie, but the route did not opt in.
    expect(r.forwardHeaders).to.deep.equal(['accept', 'x-request-id']);
  });

  it('keeps every field a route sets', () => {
    const [r] = parseRoutes(
      `
routes:
  - name: create-order
    method: POST
    path: /customers/:customerId/orders
    topic: orders.create
    key: params.customerId
    timeoutMs: 250
    dialect: spring
    forwardHeaders: [X-Tenant, Accept]
    accepts: [application/json, text/*]
    maxBodyBytes: 10
    replyContentType: application/vnd.order+json
`,
      DEFAULTS,
    );
    expect(r).to.deep.include({
      name: 'create-order',
      method: 'POST',
      topic: 'orders.create',
      key: 'params.customerId',
      timeoutMs: 250,
      dialect: 'spring',
      maxBodyBytes: 10,
      replyContentType: 'application/vnd.order+json',
    });
    expect(r!.accepts).to.deep.equal(['application/json', 'text/*']);
    expect(r!.forwardHeaders).to.deep.equal(['x-tenant', 'accept']);
  });

  it('lets each route override the timeout independently', () => {
    const routes = parseRoutes(
      `
routes:
  - { method: GET, path: /a, topic: t, timeoutMs: 100 }
  - { method: GET, path: /b, topic: t }
`,
      DEFAULTS,
    );
    expect(routes.map((r) => r.timeoutMs)).to.deep.equal([100, 5000]);
  });

  it('drops Authorization and Cookie from a route list unless the route opts in', () => {
    const [plain, withAuth, withCookie] = parseRoutes(
      `
routes:
  - { method: GET, path: /a, topic: t, forwardHeaders: [Authorization, Cookie, X-Tenant] }
  - { method: GET, path: /b, topic: t, forwardHeaders: [Authorization, Cookie], forwardAuthorization: true }
  - { method: GET, path: /c, topic: t, forwardHeaders: [Authorization, Cookie], forwardCookie: true }
`,
      DEFAULTS,
    );
    expect(plain!.forwardHeaders).to.deep.equal(['x-tenant']);
    expect(withAuth!.forwardHeaders).to.deep.equal(['authorization']);
    expect(withCookie!.forwardHeaders).to.deep.equal(['cookie']);
  });

  it('forwards Authorization and Cookie when the route opts in, without listing them again', () => {
    const [r] = parseRoutes(
      `
routes:
  - { method: GET, path: /a, topic: t, forwardAuthorization: true, forwardCookie: true }
`,
      { ...DEFAULTS, forwardHeaders: ['accept'] },
    );
    expect(r!.forwardHeaders).to.include('authorization').and.to.include('cookie');
  });

  it('names a route without a name by its method and path', () => {
    const routes = parseRoutes('routes:\n  - { method: delete, path: /, topic: t }\n', DEFAULTS);
    expect(routes[0]!.name).to.equal('DELETE /');
  });

  it('rejects text that is not YAML', () => {
    const err = configError('routes: [ { method: GET');
    expect(err.message).to.contain('not valid YAML');
  });

  it('names the source in its messages', () => {
    try {
      parseRoutes('routes: [ { method: GET', DEFAULTS, '/etc/replygate/routes.yaml');
      expect.fail('expected a ConfigError');
    } catch (err) {
      expect((err as Error).message).to.contain('/etc/replygate/routes.yaml');
    }
  });

  it('rejects a file without routes', () => {
    configError('routes: []\n');
    configError('{}\n');
    configError('');
  });

  it('rejects an unknown top-level field', () => {
    const err = configError('routes:\n  - { method: GET, path: /a, topic: t }\nextra: 1\n');
    expect(err.message).to.contain('extra');
  });

  it('rejects an unknown route field, naming the route index and the field', () => {
    const err = configError(`
routes:
  - { method: GET, path: /a, topic: t }
  - { method: GET, path: /b, topic: t, timeout: 100 }
`);
    expect(err.message).to.contain('routes.1');
    expect(err.message).to.contain('timeout');
    expect(err.issues).to.have.length(1);
  });

  it('suggests the near field name for a typo', () => {
    const err = configError('routes:\n  - { method: GET, path: /a, topic: t, timout: 100 }\n');
    expect(err.message).to.contain('routes.0: Unrecognized key: "timout" (timout → did you mean timeoutMs?)');
    const far = configError('routes:\n  - { method: GET, path: /a, topic: t, colour: red }\n');
    expect(far.message).to.not.contain('did you mean');
  });

  it('refuses two routes with the same name, naming both', () => {
    const err = configError(`
routes:
  - { name: getOrder, method: GET, path: /orders/:id, topic: t }
  - { name: getOrder, method: GET, path: /v2/orders/:id, topic: t }
`);
    expect(err.message).to.contain('routes.1.name: "getOrder" is already the name of routes.0');
  });

  for (const path of [
    '/admin',
    '/Admin/routes',
    '/ADMIN/routes',
    '/Metrics',
    '/V1/replies/:id',
    '/v1/WS',
    '/OpenAPI.json',
  ]) {
    it(`refuses ${path}: a built-in path in any case (matching is case-insensitive)`, () => {
      const err = configError(`routes:\n  - { method: GET, path: "${path}", topic: t }\n`);
      expect(err.message).to.match(/routes\.0\.path: .* is reserved by the gateway/);
    });
  }

  it('refuses routes that differ only in case, as the router cannot tell them apart', () => {
    const err = configError(`
routes:
  - { method: GET, path: /orders/:id, topic: t }
  - { method: GET, path: /Orders/:orderId, topic: t }
`);
    expect(err.message).to.contain('routes.1: duplicate route GET /Orders/:orderId (same as routes.0: /orders/:id)');
  });

  const invalid: [string, string, string][] = [
    ['a bad topic name', '{ method: GET, path: /a, topic: "orders requests!" }', 'routes.0.topic'],
    ['a topic name too long', `{ method: GET, path: /a, topic: ${'t'.repeat(250)} }`, 'routes.0.topic'],
    [
      'a key expression with an unknown root',
      '{ method: GET, path: /a, topic: t, key: cookie.session }',
      'routes.0.key',
    ],
    ['a key expression without a field', '{ method: GET, path: /a, topic: t, key: body }', 'routes.0.key'],
    ['a key expression with an empty field', '{ method: GET, path: /a, topic: t, key: "body..id" }', 'routes.0.key'],
    ['an unknown method', '{ method: TRACE, path: /a, topic: t }', 'routes.0.method'],
    ['a path without a leading slash', '{ method: GET, path: a, topic: t }', 'routes.0.path'],
    ['a path with an empty segment', '{ method: GET, path: /a//b, topic: t }', 'routes.0.path'],
    ['a path with a trailing slash', '{ method: GET, path: /a/, topic: t }', 'routes.0.path'],
    ['a path with a percent sign', '{ method: GET, path: /a%20b, topic: t }', 'routes.0.path'],
    ['an unnamed parameter', '{ method: GET, path: "/a/:", topic: t }', 'routes.0.path'],
    ['a zero timeout', '{ method: GET, path: /a, topic: t, timeoutMs: 0 }', 'routes.0.timeoutMs'],
    ['a timeout given as a string', '{ method: GET, path: /a, topic: t, timeoutMs: "100" }', 'routes.0.timeoutMs'],
    ['an unknown dialect', '{ method: GET, path: /a, topic: t, dialect: grpc }', 'routes.0.dialect'],
    ['a bad accepted media type', '{ method: GET, path: /a, topic: t, accepts: [json] }', 'routes.0.accepts'],
    ['a negative body limit', '{ method: GET, path: /a, topic: t, maxBodyBytes: -1 }', 'routes.0.maxBodyBytes'],
    [
      'a forwarded header with a space',
      '{ method: GET, path: /a, topic: t, forwardHeaders: ["x a"] }',
      'routes.0.forwardHeaders',
    ],
    ['a missing topic', '{ method: GET, path: /a }', 'routes.0.topic'],
  ];
  for (const [what, routeYaml, field] of invalid) {
    it(`rejects ${what}, naming ${field}`, () => {
      const err = configError(`routes:\n  - ${routeYaml}\n`);
      expect(err.message).to.contain(field);
      expect(err.issues.some((i) => i.includes(field))).to.equal(true);
    });
  }

  it('names the index of the bad route among good ones', () => {
    const err = configError(`
routes:
  - { method: GET, path: /a, topic: t }
  - { method: GET, path: /b, topic: t }
  - { method: GET, path: /c, topic: "bad topic" }
`);
    expect(err.message).to.contain('routes.2.topic');
    expect(err.message).to.not.contain('routes.0');
  });

  it('rejects two routes with the same method and path shape', () => {
    const err = configError(`
routes:
  - { method: GET, path: /orders/:id, topic: t }
  - { method: get, path: /orders/:orderId, topic: u }
`);
    expect(err.message).to.contain('duplicate route GET /orders/:orderId');
  });

  it('names the index of a duplicate route', () => {
    const err = configError(`
routes:
  - { method: GET, path: /orders/:id, topic: t }
  - { method: POST, path: /orders/:id, topic: t }
  - { method: GET, path: /orders/:orderId, topic: u }
`);
    expect(err.message).to.contain('routes.2');
  });

  it('accepts the same path with different methods, and a literal beside a parameter', () => {
    const routes = parseRoutes(
      `
routes:
  - { method: GET, path: /orders/:id, topic: t }
  - { method: DELETE, path: /orders/:id, topic: t }
  - { method: GET, path: /orders/latest, topic: t }
`,
      DEFAULTS,
    );
    expect(routes).to.have.length(3);
  });
});
