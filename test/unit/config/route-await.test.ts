import { expect } from 'chai';
import { parseRoutes } from '../../../src/config/routes-file';
import { ConfigError } from '../../../src/errors/startup-errors';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: ['accept'] };

function issuesOf(yaml: string): string {
  try {
    parseRoutes(yaml, DEFAULTS, 'routes.yaml');
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('routes file: await (event-driven routes)', () => {
  it('resolves a command route and a blocking read (topic taken from await)', () => {
    const [post, get] = parseRoutes(
      `
routes:
  - name: createUser
    method: POST
    path: /users
    topic: users.commands
    key: body.email
    await:
      topic: users.created
      match: { value.payload.after.email: body.email, header.tenant: header.x-tenant }
  - name: getOrder
    method: GET
    path: /orders/:id
    timeoutMs: 2000
    await:
      topic: orders.events
      match: { key: params.id }
      state: { field: value.status, in: [VALIDATED, REJECTED], status: { REJECTED: 422 } }
      stateTtlMs: 60000
`,
      DEFAULTS,
    );
    expect(post?.topic).to.equal('users.commands');
    expect(post?.await).to.deep.equal({
      topic: 'users.created',
      match: [
        { event: 'value.payload.after.email', request: 'body.email' },
        { event: 'header.tenant', request: 'header.x-tenant' },
      ],
      state: undefined,
      command: true,
      stream: false,
      stateTtlMs: 3_600_000,
      maxWaiters: 100,
      fromReply: false,
    });
    expect(get?.topic).to.equal('orders.events');
    expect(get?.await?.command).to.equal(false);
    expect(get?.await?.state).to.deep.equal({
      field: 'value.status',
      in: ['VALIDATED', 'REJECTED'],
      status: { REJECTED: 422 },
    });
  });

  it('streams every matching event on a stream: true route', () => {
    const [r] = parseRoutes(
      'routes:\n  - { method: GET, path: /a/:id, stream: true, await: { topic: e, match: { key: params.id } } }\n',
      DEFAULTS,
    );
    expect(r?.await?.stream).to.equal(true);
  });

  it('takes match values from the reply to the command (the created id)', () => {
    const [r] = parseRoutes(
      `
routes:
  - method: POST
    path: /orders
    topic: orders.commands
    await:
      topic: orders.events
      match: { key: reply.body.order.id, header.tenant: reply.header.X-Tenant, value.customer: body.customer }
      state: { field: value.status, in: [VALIDATED] }
`,
      DEFAULTS,
    );
    expect(r?.await?.fromReply).to.equal(true);
    expect(r?.await?.match).to.deep.equal([
      { event: 'key', request: 'reply.body.order.id' },
      { event: 'header.tenant', request: 'reply.header.X-Tenant' },
      { event: 'value.customer', request: 'body.customer' },
    ]);
  });

  it('leaves await undefined on ordinary routes', () => {
    const [r] = parseRoutes('routes:\n  - { method: GET, path: /a, topic: a }\n', DEFAULTS);
    expect(r?.await).to.equal(undefined);
  });

  const refused: [string, string, RegExp][] = [
    ['no topic and no await', '{ method: GET, path: /a }', /routes\.0\.topic: required \(or an await block/],
    [
      'a bad event path',
      '{ method: GET, path: /a, await: { topic: e, match: { value..x: params.id } } }',
      /routes\.0\.await\.match.*value\.\.x: use key, value/,
    ],
    [
      'an arbitrary request source',
      '{ method: GET, path: /a/:id, await: { topic: e, match: { key: "*" } } }',
      /routes\.0\.await\.match\.key: \*: use params/,
    ],
    [
      'an empty match',
      '{ method: GET, path: /a, await: { topic: e, match: {} } }',
      /routes\.0\.await\.match: give 1 to 8 match rules/,
    ],
    [
      'a status for a state not awaited',
      '{ method: GET, path: /a/:id, await: { topic: e, match: { key: params.id }, state: { field: value.s, in: [A], status: { B: 422 } } } }',
      /routes\.0\.await\.state\.status\.B: B is not one of state\.in/,
    ],
    [
      'a status out of range',
      '{ method: GET, path: /a/:id, await: { topic: e, match: { key: params.id }, state: { field: value.s, in: [A], status: { A: 99 } } } }',
      /routes\.0\.await\.state\.status\.A/,
    ],
    [
      'a bad topic',
      '{ method: GET, path: /a/:id, await: { topic: "a b", match: { key: params.id } } }',
      /routes\.0\.await\.topic: not a valid Kafka topic name/,
    ],
    [
      'an unknown field',
      '{ method: GET, path: /a/:id, await: { topic: e, match: { key: params.id }, stat: {} } }',
      /routes\.0\.await/,
    ],
    [
      'gather',
      '{ method: GET, path: /a/:id, gather: { count: 2 }, await: { topic: e, match: { key: params.id } } }',
      /routes\.0\.await: not with gather/,
    ],
    [
      'a key on a blocking read',
      '{ method: GET, path: /a/:id, key: params.id, await: { topic: e, match: { key: params.id } } }',
      /routes\.0\.key: a blocking read/,
    ],
    [
      'a reply value on a blocking read (no command, so no reply)',
      '{ method: GET, path: /a/:id, await: { topic: e, match: { key: reply.body.id } } }',
      /routes\.0\.await\.match\.key: reply\.body\.id reads the reply to a command/,
    ],
    [
      'a bare reply expression',
      '{ method: POST, path: /a, topic: c, await: { topic: e, match: { key: reply.body } } }',
      /routes\.0\.await\.match\.key: reply\.body: use params/,
    ],
    [
      'a reply status or other reply part',
      '{ method: POST, path: /a, topic: c, await: { topic: e, match: { key: reply.status } } }',
      /routes\.0\.await\.match\.key: reply\.status: use params/,
    ],
    [
      'a nested reply header',
      '{ method: POST, path: /a, topic: c, await: { topic: e, match: { key: reply.header.a.b } } }',
      /routes\.0\.await\.match\.key: reply\.header\.a\.b: use params/,
    ],
    [
      'a reply value with gather',
      '{ method: POST, path: /a, topic: c, gather: { count: 2 }, await: { topic: e, match: { key: reply.body.id } } }',
      /routes\.0\.await: not with gather/,
    ],
  ];
  for (const [what, route, message] of refused) {
    it(`refuses ${what}, naming the route and field`, () => {
      expect(issuesOf(`routes:\n  - ${route}\n`)).to.match(message);
    });
  }
});
