import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { validate } from '@readme/openapi-parser';
import { parseRoutes, type RouteDefinition } from '../../../src/config/routes-file';
import { ERROR_CODES, type ErrorCode } from '../../../src/errors/error-codes';
import { buildOpenApiDocument, toOpenApiPath } from '../../../src/ingress/admin/openapi-document';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] as string[] } as unknown as Parameters<
  typeof parseRoutes
>[1];

/** Codes no route or /v1/replies request answers with: start-up failures, the admin reload, bugs. */
const NOT_ROUTE_ANSWERS: readonly ErrorCode[] = [
  'RG_CONFIG_INVALID',
  'RG_STARTUP_FAILED',
  'RG_REDIS_NOTIFICATIONS_DISABLED',
  'RG_REDIS_EVICTION_POLICY',
  'RG_KAFKA_OAUTH_TOKEN', // start-up and the Kafka client; a request sees RG_PUBLISH_FAILED
  'RG_ROUTES_INVALID', // POST /admin/reload only
  'RG_INTERNAL', // a bug, not part of the contract
];

/** A response object as the tests read it. */
interface ResponseObject {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
  'x-replygate-error-codes'?: string[];
}

type Doc = { paths: Record<string, Record<string, { responses: Record<string, Record<string, unknown>> }>> };

/** Every `status code` pair the document lists (`x-replygate-error-codes`), over all operations. */
function documentedPairs(doc: Doc): Set<string> {
  const pairs = new Set<string>();
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      for (const [status, response] of Object.entries(op.responses)) {
        for (const code of (response['x-replygate-error-codes'] as string[] | undefined) ?? []) {
          pairs.add(`${status} ${code}`);
        }
      }
    }
  }
  return pairs;
}

/** The `status code` pairs of the README's status table (`| 404 | \`RG_...\`, … | when |`). */
function readmePairs(): Set<string> {
  const readme = readFileSync(resolve(__dirname, '../../../README.md'), 'utf8');
  const pairs = new Set<string>();
  for (const [, status, codes] of readme.matchAll(/^\| (\d{3}) \| ([^|]*) \|/gm)) {
    for (const [code] of codes!.matchAll(/RG_[A-Z_]+/g)) pairs.add(`${status} ${code}`);
  }
  return pairs;
}

/** Routes exercising every route-dependent status: auth, bodies, idempotency, callbacks. */
function fullDocument(): Doc & { components: { securitySchemes: Record<string, unknown> } } {
  const routes = parseRoutes(
    `
routes:
  - { name: create order, method: POST, path: /customers/:customerId/orders, topic: t1, key: body.order.id, accepts: [application/json, text/plain] }
  - { name: search, method: GET, path: /search, topic: t2, key: query.region }
  - { name: create-order, method: PUT, path: /orders/:id, topic: t3 }
`,
    DEFAULTS,
  ) as (RouteDefinition & { auth?: string; scopes?: string[] })[];
  // Routes as the security helper's routes file resolves them (auth may be absent in older files).
  routes[0]!.auth = 'jwt';
  routes[0]!.scopes = ['orders:write'];
  routes[1]!.auth = 'apiKey';
  routes[2]!.auth = 'none';
  return buildOpenApiDocument(routes) as unknown as Doc & { components: { securitySchemes: Record<string, unknown> } };
}

async function expectValid(doc: unknown): Promise<void> {
  const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
  expect(result.valid, JSON.stringify(result)).to.equal(true);
  expect(result.specification).to.equal('OpenAPI');
}

describe('OpenAPI document from the route table', () => {
  it('turns :params into {params}', () => {
    expect(toOpenApiPath('/customers/:customerId/orders/:id')).to.equal('/customers/{customerId}/orders/{id}');
  });

  it('is a valid OpenAPI 3.1 document for the sample routes', async () => {
    const yaml = readFileSync(resolve(__dirname, '../../../examples/samples/routes.yaml'), 'utf8');
    const routes = parseRoutes(yaml, DEFAULTS);
    const doc = buildOpenApiDocument(routes);
    expect(doc.openapi).to.equal('3.1.0');
    await expectValid(doc);
    expect(Object.keys(doc.paths).every((p) => !p.includes(':'))).to.equal(true);
  });

  it('the validator does refuse a broken document (the checks above are not vacuous)', async () => {
    const routes = parseRoutes('routes:\n  - { method: GET, path: /x/:id, topic: t }\n', DEFAULTS);
    const doc = buildOpenApiDocument(routes) as unknown as { paths: Record<string, Record<string, unknown>> };
    (doc.paths['/x/{id}']!['get'] as Record<string, unknown>)['parameters'] = [];
    const result = await validate(structuredClone(doc) as Parameters<typeof validate>[0]);
    expect(result.valid).to.equal(false);
  });

  it('describes params, partition keys, body types, auth and every gateway status', async () => {
    const doc = fullDocument() as unknown as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    await expectValid(doc);
    const create = doc.paths['/customers/{customerId}/orders']!['post']!;
    expect(create['operationId']).to.equal('createOrder');
    expect(create['parameters']).to.deep.include({
      name: 'customerId',
      in: 'path',
      required: true,
      schema: { type: 'string' },
    });
    const body = create['requestBody'] as { required: boolean; content: Record<string, { schema: unknown }> };
    expect(body.required).to.equal(true);
    expect(Object.keys(body.content)).to.deep.equal(['application/json', 'text/plain']);
    expect(body.content['application/json']!.schema).to.deep.include({ required: ['order'] });
    expect(create['security']).to.deep.equal([{ jwt: ['orders:write'] }]);
    const responses = create['responses'] as Record<string, { content?: Record<string, { schema: unknown }> }>;
    const statuses = ['200', '202', '400', '401', '403', '404', '408', '413', '415', '417', '422', '429', '431', '502'];
    for (const status of [...statuses, '503', '504']) {
      expect(responses, status).to.have.property(status);
    }
    expect(responses['504']!.content!['application/problem+json']!.schema).to.deep.equal({
      $ref: '#/components/schemas/Problem',
    });
    const search = doc.paths['/search']!['get']!;
    expect(search['parameters']).to.deep.include({
      name: 'region',
      in: 'query',
      required: true,
      description: 'Partition key',
      schema: {},
    });
    expect(search).to.not.have.property('requestBody');
    expect(search['security']).to.have.length(2);
    expect(doc.paths['/orders/{id}']!['put']!['security']).to.deep.equal([]);
    // Route names that collapse to the same id stay unique.
    expect(doc.paths['/orders/{id}']!['put']!['operationId']).to.equal('createOrder2');
    expect(doc.components.securitySchemes).to.have.keys('jwt', 'apiKey', 'apiKeyBearer');
    // Kafka topics are internal.
    expect(JSON.stringify(doc)).to.not.include('"t1"');
  });

  it('lists every error code a route or /v1/replies can answer, under the status the README gives it', async () => {
    const doc = fullDocument();
    await expectValid(doc);
    const documented = documentedPairs(doc);
    const answerable = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((c) => !NOT_ROUTE_ANSWERS.includes(c));
    for (const code of answerable) {
      expect([...documented], `${code} (${ERROR_CODES[code]})`).to.include(`${ERROR_CODES[code]} ${code}`);
    }
    // Same pairs as the README's status table: a status added to one and not the other fails here.
    const readme = [...readmePairs()].filter((p) => !NOT_ROUTE_ANSWERS.includes(p.split(' ')[1] as ErrorCode));
    expect([...documented].sort()).to.deep.equal(readme.sort());
  });

  it('describes HEAD (405), the 202 retrieval token and the /v1/replies endpoints', () => {
    const doc = fullDocument() as unknown as {
      paths: Record<
        string,
        Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, ResponseObject> }>
      >;
    };
    expect(Object.keys(doc.paths['/search']!['head']!.responses)).to.deep.equal(['405']);
    expect(doc.paths['/search']!['head']!.responses['405']!.headers).to.have.property('Allow');
    const accepted = doc.paths['/search']!['get']!.responses['202']!;
    expect(accepted.headers).to.include.keys('Location', 'Replygate-Reply-Token', 'Retry-After');
    const fetchReply = doc.paths['/v1/replies/{id}']!['get']!;
    expect(fetchReply.parameters!.map((p) => `${p.in}:${p.name}`)).to.include.members([
      'path:id',
      'header:Replygate-Reply-Token',
      'query:token',
      'header:Prefer',
    ]);
    const events = doc.paths['/v1/replies/{id}/events']!['get']!;
    for (const op of [fetchReply, events]) {
      expect(op.responses['404']!['x-replygate-error-codes']).to.deep.equal(['RG_REPLY_NOT_FOUND']);
      expect(op.responses['429']!.description).to.contain('REPLYGATE_MAX_WATCHERS_PER_REPLY');
      expect(op.responses['503']!.description).to.contain('REPLYGATE_MAX_WATCHERS');
      expect(op.responses['429']!.headers).to.have.property('Retry-After');
    }
    expect(events.responses['200']!.content).to.have.property('text/event-stream');
  });

  it('describes what event routes (await) answer: the event, 429 at await.maxWaiters, 502 without the created id', async () => {
    const routes = parseRoutes(
      `
routes:
  - name: createOrder
    method: POST
    path: /orders
    topic: orders.commands
    await:
      topic: orders.events
      match: { key: reply.body.orderId }
      state: { field: value.status, in: [VALIDATED, REJECTED], status: { REJECTED: 422 } }
      maxWaiters: 7
  - name: getOrder
    method: GET
    path: /orders/:id
    await: { topic: orders.events, match: { key: params.id } }
  - { name: plain, method: GET, path: /plain, topic: t1 }
`,
      DEFAULTS,
    );
    const doc = buildOpenApiDocument(routes) as unknown as Doc;
    await expectValid(doc);
    const create = doc.paths['/orders']!['post']!.responses as unknown as Record<string, ResponseObject>;
    expect(create['429']!['x-replygate-error-codes']).to.deep.equal(['RG_RATE_LIMITED']);
    expect(create['429']!.description).to.contain('await.maxWaiters (7)');
    expect(create['502']!.description).to.contain('reply.body.orderId');
    expect(create['200']!.description).to.contain('VALIDATED, REJECTED').and.contain('REJECTED → 422');
    const get = doc.paths['/orders/{id}']!['get']!.responses as unknown as Record<string, ResponseObject>;
    expect(get['429']!.description).to.contain('await.maxWaiters (100)');
    expect(get['502']!.description).to.not.contain('reply.body');
    const plain = doc.paths['/plain']!['get']!.responses as unknown as Record<string, ResponseObject>;
    expect(plain['429']!.description).to.not.contain('maxWaiters');
    // Event topics are internal too.
    expect(JSON.stringify(doc)).to.not.include('orders.events');
  });
});
