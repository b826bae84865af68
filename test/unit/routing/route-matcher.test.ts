import { expect } from 'chai';
import fc from 'fast-check';
import type { RouteDefinition } from '../../../src/config/routes-file';
import { BadRequestError, MethodNotAllowedError, RouteNotFoundError } from '../../../src/errors/http-errors';
import { ReplygateError } from '../../../src/errors/replygate-error';
import { parseRoutes } from '../../../src/config/routes-file';
import { RouteMatcher } from '../../../src/routing/route-matcher';

type Method = RouteDefinition['method'];

/** A route as parseRoutes would produce it; only method and path matter to the matcher. */
function route(method: Method, path: string, name = `${method} ${path}`): RouteDefinition {
  // Built through parseRoutes so every route field gets its real default.
  const [parsed] = parseRoutes(
    `routes:\n  - { method: ${method}, path: "${path}", topic: orders.requests, timeoutMs: 1000 }\n`,
    { timeoutMs: 1000, maxBodyBytes: 1024, forwardHeaders: [] },
  );
  return { ...parsed!, name };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

describe('RouteMatcher', () => {
  const matcher = new RouteMatcher([
    route('GET', '/orders/:orderId'),
    route('GET', '/orders/latest'),
    route('POST', '/orders'),
    route('GET', '/orders'),
    route('DELETE', '/orders/:orderId'),
    route('GET', '/customers/:customerId/orders/:orderId'),
    route('GET', '/'),
  ]);

  it('prefers a literal segment over a parameter, whatever the declaration order', () => {
    const m = matcher.match('GET', '/orders/latest');
    expect(m.route.path).to.equal('/orders/latest');
    expect({ ...m.params }).to.deep.equal({});

    const reversed = new RouteMatcher([route('GET', '/orders/latest'), route('GET', '/orders/:orderId')]);
    expect(reversed.match('GET', '/orders/latest').route.path).to.equal('/orders/latest');
    expect(reversed.match('GET', '/orders/other').route.path).to.equal('/orders/:orderId');
  });

  it('returns the parameters of a matched route', () => {
    const m = matcher.match('GET', '/customers/c-1/orders/o-2');
    expect(m.route.path).to.equal('/customers/:customerId/orders/:orderId');
    expect({ ...m.params }).to.deep.equal({ customerId: 'c-1', orderId: 'o-2' });
  });

  it('percent-decodes parameter values (space, slash, unicode)', () => {
    expect(matcher.match('GET', '/orders/a%20b').params['orderId']).to.equal('a b');
    expect(matcher.match('GET', '/orders/a%2Fb').params['orderId']).to.equal('a/b');
    expect(matcher.match('GET', `/orders/${encodeURIComponent('Zürich-東京-🚀')}`).params['orderId']).to.equal(
      'Zürich-東京-🚀',
    );
  });

  it('compares literal segments after decoding', () => {
    expect(matcher.match('GET', '/%6Frders/latest').route.path).to.equal('/orders/latest');
  });

  for (const bad of ['/orders/%E0%A4%A', '/orders/%', '/orders/%zz', '/orders/%C3']) {
    it(`rejects the malformed percent-encoding ${bad} with BadRequestError`, () => {
      const err = thrown(() => matcher.match('GET', bad));
      expect(err).to.be.instanceOf(BadRequestError);
      expect((err as BadRequestError).code).to.equal('RG_BAD_REQUEST');
      expect((err as BadRequestError).status).to.equal(400);
    });
  }

  it('ignores one trailing slash', () => {
    expect(matcher.match('GET', '/orders/').route.path).to.equal('/orders');
    expect(matcher.match('GET', '/orders/o-1/').params['orderId']).to.equal('o-1');
  });

  it('matches the root route', () => {
    expect(matcher.match('GET', '/').route.path).to.equal('/');
  });

  it('does not let an empty segment fill a parameter', () => {
    expect(thrown(() => matcher.match('GET', '/customers//orders/o-1'))).to.be.instanceOf(RouteNotFoundError);
  });

  it('answers 404 (RouteNotFoundError) when no path matches', () => {
    const err = thrown(() => matcher.match('GET', '/invoices/1'));
    expect(err).to.be.instanceOf(RouteNotFoundError);
    expect((err as RouteNotFoundError).status).to.equal(404);
    expect(thrown(() => matcher.match('GET', '/orders/1/extra'))).to.be.instanceOf(RouteNotFoundError);
  });

  it('answers 405 (MethodNotAllowedError) with the allowed methods when only the method differs', () => {
    const err = thrown(() => matcher.match('PUT', '/orders/o-1'));
    expect(err).to.be.instanceOf(MethodNotAllowedError);
    const e = err as MethodNotAllowedError;
    expect(e.status).to.equal(405);
    expect([...e.allowed].sort()).to.deep.equal(['DELETE', 'GET']);
    expect(e.details?.['allowed']).to.deep.equal(e.allowed);
  });

  it('lists each allowed method once', () => {
    const err = thrown(() => matcher.match('PATCH', '/orders'));
    expect([...(err as MethodNotAllowedError).allowed].sort()).to.deep.equal(['GET', 'POST']);
  });

  it('answers HEAD with 405 listing the methods, so it never reaches a service', () => {
    const err = thrown(() => matcher.match('HEAD', '/orders/o-1'));
    expect(err).to.be.instanceOf(MethodNotAllowedError);
    expect([...(err as MethodNotAllowedError).allowed].sort()).to.deep.equal(['DELETE', 'GET']);
  });

  it('matches literal segments case-insensitively and keeps the case of parameter values', () => {
    const m = matcher.match('GET', '/CUSTOMERS/Ab-1/Orders/XyZ');
    expect(m.route.path).to.equal('/customers/:customerId/orders/:orderId');
    expect({ ...m.params }).to.deep.equal({ customerId: 'Ab-1', orderId: 'XyZ' });
    expect(matcher.match('GET', '/Orders/LATEST').route.path).to.equal('/orders/latest');
    const upper = new RouteMatcher([route('GET', '/Shop/Items')]);
    expect(upper.match('GET', '/shop/items').route.path).to.equal('/Shop/Items');
  });

  it('returns params without a prototype, so __proto__ as a value or a name is harmless', () => {
    const protoName = new RouteMatcher([route('GET', '/x/:__proto__/:constructor')]);
    const m = protoName.match('GET', '/x/polluted/toString');
    expect(Object.getPrototypeOf(m.params)).to.equal(null);
    expect(Object.prototype.hasOwnProperty.call(m.params, '__proto__')).to.equal(true);
    expect(m.params['__proto__']).to.equal('polluted');
    expect(m.params['constructor']).to.equal('toString');
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);

    const protoValue = matcher.match('GET', '/orders/__proto__');
    expect(protoValue.params['orderId']).to.equal('__proto__');
    expect(Object.getPrototypeOf(protoValue.params)).to.equal(null);
    // A lookup of a name that is not a parameter finds nothing, not Object.prototype members.
    expect(protoValue.params['toString']).to.equal(undefined);
  });

  describe('properties', () => {
    const PARAM_NAMES = ['id', 'orderId', 'customer_id', '__proto__', 'constructor', 'toString', 'x1', '_'];
    const literal = fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=@-]{1,12}$/);
    const segmentSpec = fc.oneof(
      literal.map((text) => ({ kind: 'literal' as const, text })),
      fc.constant({ kind: 'param' as const }),
    );
    const templateSpec = fc.record({
      method: fc.constantFrom<Method>('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
      segments: fc.array(segmentSpec, { maxLength: 6 }),
    });
    // Each route starts with its own literal segment, so exactly one route can match a path built
    // from its template, whatever the generated parameter values are.
    const tableSpec = fc.array(templateSpec, { minLength: 1, maxLength: 8 }).map((templates) =>
      templates.map((t, i) => {
        let p = 0;
        const parts = [`r${i}`];
        const names: string[] = [];
        for (const s of t.segments) {
          if (s.kind === 'literal') {
            parts.push(s.text);
          } else {
            const name = `${PARAM_NAMES[p % PARAM_NAMES.length] as string}${p >= PARAM_NAMES.length ? p : ''}`;
            names.push(name);
            parts.push(`:${name}`);
            p++;
          }
        }
        return { def: route(t.method, `/${parts.join('/')}`), names };
      }),
    );
    // Any non-empty string without '/' (no lone surrogates: encodeURIComponent cannot encode those).
    const paramValue = fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }).filter((s) => !s.includes('/'));

    it('matches a path built from any route template and returns the decoded parameter values', () => {
      fc.assert(
        fc.property(
          tableSpec,
          fc.nat(),
          fc.array(paramValue, { minLength: 8, maxLength: 8 }),
          fc.boolean(),
          (table, pick, values, trailingSlash) => {
            const target = table[pick % table.length]!;
            const matcher = new RouteMatcher(table.map((t) => t.def));
            let v = 0;
            const expected: Record<string, string> = {};
            const path =
              '/' +
              target.def.path
                .slice(1)
                .split('/')
                .map((seg) => {
                  if (!seg.startsWith(':')) return seg;
                  const value = values[v++ % values.length] as string;
                  Object.defineProperty(expected, seg.slice(1), { value, enumerable: true });
                  return encodeURIComponent(value);
                })
                .join('/') +
              (trailingSlash ? '/' : '');
            const m = matcher.match(target.def.method, path);
            expect(m.route).to.equal(target.def);
            expect(Object.keys(m.params).sort()).to.deep.equal([...target.names].sort());
            for (const name of target.names) expect(m.params[name]).to.equal(expected[name]);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('chooses a literal route over a parameter route exactly when the value equals the literal', () => {
      fc.assert(
        fc.property(literal, paramValue, fc.boolean(), (text, value, literalFirst) => {
          const lit = route('GET', `/items/${text}`);
          const param = route('GET', '/items/:id');
          const matcher = new RouteMatcher(literalFirst ? [lit, param] : [param, lit]);
          const m = matcher.match('GET', `/items/${encodeURIComponent(value)}`);
          if (value === text) {
            expect(m.route).to.equal(lit);
          } else {
            expect(m.route).to.equal(param);
            expect(m.params['id']).to.equal(value);
          }
        }),
        { numRuns: 300 },
      );
    });

    it('never throws anything but a ReplygateError, for any method and path', () => {
      const matcher = new RouteMatcher([
        route('GET', '/orders/:orderId'),
        route('POST', '/orders'),
        route('GET', '/a/b/:c'),
        route('GET', '/'),
      ]);
      const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
      const pathLike = fc.oneof(
        anyText,
        anyText.map((s) => `/${s}`),
        fc
          .array(fc.oneof(anyText, fc.constantFrom('%', '%2', '%E0%A4', '%ff', 'orders', '')), { maxLength: 5 })
          .map((parts) => `/${parts.join('/')}`),
      );
      fc.assert(
        fc.property(fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'DELETE'), anyText), pathLike, (method, path) => {
          try {
            const m = matcher.match(method, path);
            expect(m.route).to.be.an('object');
          } catch (err) {
            expect(err).to.be.instanceOf(ReplygateError);
          }
        }),
        { numRuns: 1000 },
      );
    });
  });
});
