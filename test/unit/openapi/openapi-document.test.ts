import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { validate } from '@readme/openapi-parser';
import { parseRoutes, type RouteDefinition } from '../../../src/config/routes-file';
import { buildOpenApiDocument, toOpenApiPath } from '../../../src/openapi/openapi-document';

const DEFAULTS = { timeoutMs: 5000, maxBodyBytes: 1024, forwardHeaders: [] as string[] } as unknown as Parameters<
  typeof parseRoutes
>[1];

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
    const yaml = readFileSync(resolve(__dirname, '../../../src/samples/routes.yaml'), 'utf8');
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
    const doc = buildOpenApiDocument(routes) as unknown as {
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
    for (const status of ['200', '202', '401', '403', '404', '413', '415', '429', '502', '503', '504']) {
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
});
