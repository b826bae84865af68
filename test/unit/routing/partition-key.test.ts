import { expect } from 'chai';
import { evaluateKey, type KeySources } from '../../../src/routing/partition-key';

function sources(extra: Partial<KeySources> = {}): KeySources {
  const params = Object.create(null) as Record<string, string>;
  params['customerId'] = 'c-42';
  const query = Object.create(null) as Record<string, unknown>;
  query['region'] = 'eu';
  query['tag'] = ['first', 'second'];
  return {
    params,
    query,
    headers: { 'x-tenant': 'acme', 'x-multi': ['one', 'two'] },
    body: {
      orderId: 'o-1',
      amount: 12.5,
      count: 0,
      paid: false,
      customer: { id: 7, name: 'Ada' },
      items: [{ sku: 'a' }, { sku: 'b' }],
      ids: [3, 4],
      empty: [],
      nothing: null,
      blank: '',
    },
    ...extra,
  };
}

describe('evaluateKey', () => {
  const cases: [string, string | undefined][] = [
    ['params.customerId', 'c-42'],
    ['query.region', 'eu'],
    ['header.x-tenant', 'acme'],
    ['header.X-Tenant', 'acme'],
    ['body.orderId', 'o-1'],
    ['body.customer.id', '7'],
    ['body.customer.name', 'Ada'],
    ['body.amount', '12.5'],
    ['body.count', '0'],
    ['body.paid', 'false'],
    ['body.blank', ''],
    ['body.items.1.sku', 'b'],
  ];
  for (const [expression, expected] of cases) {
    it(`evaluates ${expression} to ${JSON.stringify(expected)}`, () => {
      expect(evaluateKey(expression, sources())).to.equal(expected);
    });
  }

  it('takes the first element of an array', () => {
    expect(evaluateKey('query.tag', sources())).to.equal('first');
    expect(evaluateKey('header.x-multi', sources())).to.equal('one');
    expect(evaluateKey('body.ids', sources())).to.equal('3');
  });

  const missing: [string, string][] = [
    ['an absent parameter', 'params.orderId'],
    ['an absent query field', 'query.page'],
    ['an absent header', 'header.x-other'],
    ['an absent body field', 'body.missing'],
    ['a path through a scalar', 'body.orderId.length'],
    ['a path through null', 'body.nothing.id'],
    ['a null value', 'body.nothing'],
    ['an object value', 'body.customer'],
    ['an array of objects', 'body.items'],
    ['an empty array', 'body.empty'],
    ['an unknown root', 'cookie.session'],
  ];
  for (const [what, expression] of missing) {
    it(`is undefined for ${what} (${expression})`, () => {
      expect(evaluateKey(expression, sources())).to.equal(undefined);
    });
  }

  it('is undefined for any body path when there is no body', () => {
    expect(evaluateKey('body.orderId', sources({ body: undefined }))).to.equal(undefined);
    expect(evaluateKey('body.orderId', sources({ body: 'o-1' }))).to.equal(undefined);
  });

  for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`does not follow the prototype chain for ${key}`, () => {
      const plain = sources({ params: { customerId: 'c' }, query: { region: 'eu' }, body: { orderId: 'o' } });
      expect(evaluateKey(`body.${key}`, plain)).to.equal(undefined);
      expect(evaluateKey(`params.${key}`, plain)).to.equal(undefined);
      expect(evaluateKey(`query.${key}`, plain)).to.equal(undefined);
      expect(evaluateKey(`header.${key}`, plain)).to.equal(undefined);
      expect(evaluateKey(`body.${key}.name`, plain)).to.equal(undefined);
      expect(evaluateKey(`body.orderId.${key}`, plain)).to.equal(undefined);
    });
  }

  it('reads an own "__proto__" field of a parsed JSON body as data, without touching prototypes', () => {
    const body = JSON.parse('{"__proto__": {"tenant": "acme"}}') as unknown;
    expect(evaluateKey('body.__proto__.tenant', sources({ body }))).to.equal('acme');
    expect(({} as Record<string, unknown>)['tenant']).to.equal(undefined);
  });
});
