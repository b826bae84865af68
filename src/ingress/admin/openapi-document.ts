import { createHash } from 'node:crypto';
import type { RouteDefinition } from '../../config/routes-file';
import { isReplyExpression, type RouteAwait } from '../../protocol/event-await';
import { problemResponse, problemResponses, ROUTE_PROBLEMS } from './problem-responses';
import { repliesPaths } from './replies-paths';

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & { openapi: '3.1.0'; paths: Record<string, unknown> };

/** Settings of {@link buildOpenApiDocument}. */
export interface OpenApiOptions {
  /** `info.title`. @defaultValue `replygate` */
  title?: string;
  /** `info.version`. @defaultValue `routes-<hash of the route table>`, so a reload shows as a new version */
  version?: string;
}

/**
 * Route fields the security helper adds (`auth`, `scopes`): read loosely, so the document is
 * right whether or not a routes file uses them.
 */
interface RouteAuth {
  auth?: 'none' | 'apiKey' | 'jwt' | string;
  scopes?: readonly string[];
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * Build the OpenAPI 3.1 document of a route table: one operation per route, `:param` paths as
 * `{param}`, the partition key as a required parameter or body property, the accepted request
 * content types, the route's authentication, and every gateway status of the README's status
 * table with the problem+json schema and its stable codes (`x-replygate-error-codes`); `HEAD` on
 * each path (405) and the `/v1/replies` endpoints where 202 answers are fetched. Kafka topics are
 * internal and left out.
 *
 * @example
 * res.json(buildOpenApiDocument(table.routes));
 */
export function buildOpenApiDocument(
  routes: readonly RouteDefinition[],
  options: OpenApiOptions = {},
): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  let usesApiKey = false;
  let usesJwt = false;
  for (const route of routes) {
    const path = toOpenApiPath(route.path);
    const auth = route as RouteDefinition & RouteAuth;
    if (auth.auth === 'apiKey') usesApiKey = true;
    if (auth.auth === 'jwt') usesJwt = true;
    const item = (paths[path] ??= {});
    item[route.method.toLowerCase()] = operation(route, auth, uniqueOperationId(route.name, operationIds));
    // HEAD is never published (a service would be called for a body nobody reads): 405 on every route path.
    item['head'] = headRefused(route.path);
  }
  Object.assign(paths, repliesPaths());
  const securitySchemes: Record<string, unknown> = {};
  if (usesApiKey) {
    securitySchemes['apiKey'] = { type: 'apiKey', in: 'header', name: 'X-API-Key' };
    securitySchemes['apiKeyBearer'] = { type: 'http', scheme: 'bearer', description: 'The API key as a bearer token' };
  }
  if (usesJwt) securitySchemes['jwt'] = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'replygate',
      version: options.version ?? `routes-${routesHash(routes)}`,
      description:
        'Synchronous request-reply over Apache Kafka. Every response carries X-Correlation-Id and traceparent; ' +
        'errors are application/problem+json (RFC 9457) with a stable `error` code.',
    },
    paths,
    components: {
      schemas: { Problem: PROBLEM_SCHEMA },
      headers: {
        'X-Correlation-Id': { description: 'The id the gateway gave the request', schema: { type: 'string' } },
        traceparent: { description: 'W3C trace context of the answer', schema: { type: 'string' } },
        'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
        'Replygate-Reply-Token': {
          description: 'Retrieval token of a 202 answer: send it back on /v1/replies (a bearer capability)',
          schema: { type: 'string' },
        },
      },
      ...(Object.keys(securitySchemes).length > 0 ? { securitySchemes } : {}),
    },
  };
}

/** `/customers/:customerId` → `/customers/{customerId}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function pathParameters(path: string): Record<string, unknown>[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
}

function operation(route: RouteDefinition, auth: RouteAuth, operationId: string): Record<string, unknown> {
  const parameters = pathParameters(route.path);
  const [source, ...keyPath] = route.key?.split('.') ?? [];
  if (source === 'query' && keyPath[0] !== undefined) {
    parameters.push({ name: keyPath[0], in: 'query', required: true, description: 'Partition key', schema: {} });
  }
  if (source === 'header' && keyPath[0] !== undefined) {
    parameters.push({ name: keyPath[0], in: 'header', required: true, description: 'Partition key', schema: {} });
  }
  parameters.push({
    name: 'Prefer',
    in: 'header',
    required: false,
    description: '`respond-async`: answer 202 at once; fetch the reply from Location with its Replygate-Reply-Token',
    schema: { type: 'string' },
  });
  if (route.callbacks !== undefined) {
    parameters.push({
      name: 'Callback-Url',
      in: 'header',
      required: false,
      description:
        "With Prefer: respond-async, POST the reply there (signed); must be under the route's callbacks.allow",
      schema: { type: 'string', format: 'uri' },
    });
  }
  if (route.method !== 'GET') {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'A retry with the same key gets the first attempt’s reply instead of publishing again',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  const op: Record<string, unknown> = {
    operationId,
    summary: route.name,
    'x-replygate-route': route.name,
    'x-replygate-timeout-ms': route.timeoutMs,
    parameters,
    responses: responses(route, auth),
  };
  if (BODY_METHODS.has(route.method)) op['requestBody'] = requestBody(route, source === 'body' ? keyPath : undefined);
  if (auth.auth === 'apiKey') {
    op['security'] = [{ apiKey: [...(auth.scopes ?? [])] }, { apiKeyBearer: [...(auth.scopes ?? [])] }];
  }
  if (auth.auth === 'jwt') op['security'] = [{ jwt: [...(auth.scopes ?? [])] }];
  if (auth.auth === 'none') op['security'] = [];
  return op;
}

function requestBody(route: RouteDefinition, keyPath: readonly string[] | undefined): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const type of route.accepts) {
    const json = type === 'application/json' || type.endsWith('+json');
    content[type] = { schema: json && keyPath !== undefined ? requiredPath(keyPath) : {} };
  }
  return {
    required: keyPath !== undefined,
    description: `Forwarded to the service as is (at most ${route.maxBodyBytes} bytes)`,
    content,
  };
}

/** A JSON schema requiring `a.b.c` to be a string or number (the partition key). */
function requiredPath(path: readonly string[]): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: ['string', 'number'], description: 'Partition key' };
  for (const name of [...path].reverse()) {
    schema = { type: 'object', required: [name], properties: { [name]: schema } };
  }
  return schema;
}

function responses(route: RouteDefinition, auth: RouteAuth): Record<string, unknown> {
  const withIds = { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } };
  const out: Record<string, unknown> = {
    '200': {
      description: "The service's reply: its status (200 unless it says otherwise), headers and body",
      headers: { ...withIds, traceparent: { $ref: '#/components/headers/traceparent' } },
      content: { [route.replyContentType]: { schema: {} } },
    },
    '202': {
      description:
        'Accepted, reply not in yet (Prefer: respond-async, or a route answering timeouts with 202): fetch it from Location with the Replygate-Reply-Token',
      headers: {
        ...withIds,
        Location: { description: 'Where to fetch the reply (/v1/replies/{id})', schema: { type: 'string' } },
        'Replygate-Reply-Token': { $ref: '#/components/headers/Replygate-Reply-Token' },
        'Retry-After': { $ref: '#/components/headers/Retry-After' },
        'Preference-Applied': {
          description: '`respond-async` when the request asked for it',
          schema: { type: 'string' },
        },
      },
      content: { 'application/json': { schema: ACCEPTED_SCHEMA } },
    },
    ...problemResponses(ROUTE_PROBLEMS),
  };
  if (route.await !== undefined) Object.assign(out, awaitResponses(route.await));
  if (auth.auth === 'apiKey' || auth.auth === 'jwt') {
    out['401'] = problemResponse({
      status: '401',
      codes: ['RG_UNAUTHENTICATED'],
      description: 'Missing, malformed or invalid credentials',
      headers: { 'WWW-Authenticate': { description: 'The scheme the route expects', schema: { type: 'string' } } },
    });
    out['403'] = problemResponse({
      status: '403',
      codes: ['RG_FORBIDDEN'],
      description: 'The caller lacks a scope this route requires, or its API key is limited to other routes',
    });
  }
  if (BODY_METHODS.has(route.method)) {
    out['413'] = problemResponse({
      status: '413',
      codes: ['RG_BODY_TOO_LARGE'],
      description: `Body over ${route.maxBodyBytes} bytes (decoded bytes, for a compressed body)`,
    });
    out['415'] = problemResponse({
      status: '415',
      codes: ['RG_UNSUPPORTED_MEDIA_TYPE', 'RG_UNSUPPORTED_CONTENT_ENCODING'],
      description: `Send one of ${route.accepts.join(', ')}, with no Content-Encoding other than gzip, deflate, br`,
    });
  }
  if (route.method !== 'GET') {
    out['422'] = problemResponse({
      status: '422',
      codes: ['RG_IDEMPOTENCY_KEY_REUSED'],
      description: 'Idempotency-Key reused by the same caller with a different request',
    });
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * What an event route (`await`) answers beside a correlated route's statuses: the matching event as
 * the 200 (or the state's mapped status), 429 when `await.maxWaiters` requests already wait for the
 * same entity, and on a route matched on the id the command created, 502 when the service's reply
 * does not carry it (or the service's own status when it refused the command).
 */
function awaitResponses(spec: RouteAwait): Record<string, unknown> {
  const rateLimit = ROUTE_PROBLEMS.find((p) => p.status === '429')!;
  const states = spec.state === undefined ? '' : ` once it is in one of ${spec.state.in.join(', ')}`;
  const mapped = Object.entries(spec.state?.status ?? {}).map(([state, status]) => `${state} → ${status}`);
  const out: Record<string, unknown> = {
    '200': {
      description: `The matching event's value${states}${mapped.length > 0 ? ` (status mapped: ${mapped.join(', ')})` : ''}`,
      headers: { 'X-Correlation-Id': { $ref: '#/components/headers/X-Correlation-Id' } },
      content: { 'application/json': { schema: {} } },
    },
    '429': problemResponse({
      ...rateLimit,
      description: `${rateLimit.description}; or await.maxWaiters (${spec.maxWaiters}) requests already wait for the same entity, across replicas (no Retry-After: retry later)`,
    }),
  };
  const fromReply = spec.match.filter((m) => isReplyExpression(m.request)).map((m) => m.request);
  if (fromReply.length > 0) {
    const malformed = ROUTE_PROBLEMS.find((p) => p.status === '502')!;
    out['502'] = problemResponse({
      ...malformed,
      description: `${malformed.description}; or the service's reply to the command lacks ${fromReply.join(', ')} (details.replyField names it). A reply outside 2xx is answered as it is`,
    });
  }
  return out;
}

/** `HEAD` on a route's path: refused before anything is published. */
function headRefused(path: string): Record<string, unknown> {
  return {
    summary: 'HEAD is not served on routes',
    parameters: pathParameters(path),
    responses: { '405': headResponse() },
  };
}

function headResponse(): Record<string, unknown> {
  // A HEAD answer has no body: the problem+json content is left out, its headers say it all.
  const {
    content: _content,
    headers,
    ...rest
  } = problemResponse({
    status: '405',
    codes: ['RG_METHOD_NOT_ALLOWED'],
    description: 'HEAD on a route is never published (nor is a method the path lacks); Allow lists its methods',
  });
  return {
    ...rest,
    headers: {
      ...(headers as Record<string, unknown>),
      Allow: { description: 'The methods this path has', schema: { type: 'string' } },
    },
  };
}

const ACCEPTED_SCHEMA = {
  type: 'object',
  required: ['correlationId', 'status', 'location', 'token'],
  properties: {
    correlationId: { type: 'string' },
    status: { type: 'string', const: 'pending' },
    location: { type: 'string' },
    token: { type: 'string', description: 'The retrieval token, as in Replygate-Reply-Token' },
  },
};

function uniqueOperationId(name: string, seen: Set<string>): string {
  const base =
    name
      .replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())
      .replace(/^[^A-Za-z]+/, '') || 'operation';
  let id = base.charAt(0).toLowerCase() + base.slice(1);
  for (let n = 2; seen.has(id); n++) id = `${base}${n}`;
  seen.add(id);
  return id;
}

function routesHash(routes: readonly RouteDefinition[]): string {
  return createHash('sha256').update(JSON.stringify(routes)).digest('hex').slice(0, 12);
}

const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details, plus the stable error code and the correlation id',
  required: ['type', 'title', 'status', 'detail', 'error'],
  properties: {
    type: { type: 'string', examples: ['urn:replygate:error:RG_REPLY_TIMEOUT'] },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    error: { type: 'string', pattern: '^RG_[A-Z_]+$', description: 'Stable error code' },
    correlationId: { type: 'string' },
    details: { type: 'object' },
  },
};
