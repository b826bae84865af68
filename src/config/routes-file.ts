import { KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE } from '../protocol/topic-name';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors/startup-errors';
import type { GatewayConfig } from './gateway-config';
import { isGatewayReservedHeader, RESERVED_HEADER_MESSAGE } from '../protocol/reserved-headers';
import {
  resolveRouteSecurity,
  routeSecurityFields,
  type AuthMethod,
  type RateLimitSpec,
  type RouteSecurityDefaults,
} from './route-security';
import { routeCallbackFields } from './route-callbacks';
import { resolveAwait, routeAwaitFields } from './route-await';
import { isReplyExpression, type RouteAwait } from '../protocol/event-await';
import { didYouMean } from './did-you-mean';
import { pathMatchKey, reservedPathOf } from '../protocol/gateway-paths';

const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=@-]+$/;
const KEY_EXPR = /^(params|query|body|header)(\.[A-Za-z0-9_-]+)+$/;

const routeSchema = z
  .object({
    /** Operation name, sent to the service in `rg-route`. @defaultValue `"<METHOD> <path>"` */
    name: z
      .string()
      .regex(/^[A-Za-z0-9._:/ -]{1,128}$/)
      .optional(),
    /** HTTP method. */
    method: z
      .string()
      .transform((m) => m.toUpperCase())
      .pipe(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])),
    /** Path template: literal segments and `:param` segments, e.g. `/customers/:customerId`. */
    path: z
      .string()
      .startsWith('/')
      .refine(
        (p) =>
          p === '/' ||
          p
            .slice(1)
            .split('/')
            .every((s) => PARAM.test(s) || LITERAL.test(s)),
        'segments must be literals or :name parameters',
      ),
    /**
     * Kafka topic the request is published to. Optional only on a route with `await` (a blocking
     * read: nothing is published).
     */
    topic: z.string().regex(KAFKA_TOPIC_NAME, TOPIC_NAME_MESSAGE).optional(),
    /**
     * Partition-key expression: `params.x`, `query.x`, `header.x` or `body.a.b`. Requests with the
     * same key keep their order. Without it, requests spread over partitions.
     */
    key: z.string().regex(KEY_EXPR, 'use params.<name>, query.<name>, header.<name> or body.<path>').optional(),
    /** Reply timeout for this route; overrides REPLYGATE_TIMEOUT_MS. */
    timeoutMs: z.number().int().min(1).max(3_600_000).optional(),
    /** Header dialect spoken to the service. @defaultValue `replygate` */
    dialect: z.enum(['replygate', 'spring', 'nestjs']).default('replygate'),
    /** Client headers forwarded to the service; replaces REPLYGATE_FORWARD_HEADERS for this route. */
    forwardHeaders: z
      .array(
        z
          .string()
          .regex(/^[A-Za-z0-9-]{1,128}$/)
          .refine((h) => !isGatewayReservedHeader(h), RESERVED_HEADER_MESSAGE),
      )
      .optional(),
    /** Forward the client's `Authorization` header. @defaultValue false */
    forwardAuthorization: z.boolean().default(false),
    /** Forward the client's `Cookie` header. @defaultValue false */
    forwardCookie: z.boolean().default(false),
    /** Accepted request content types (for methods with a body). @defaultValue `[application/json]` */
    accepts: z
      .array(z.string().regex(/^[a-z0-9.+-]+\/[a-z0-9.+*-]+$/))
      .min(1)
      .default(['application/json']),
    /** Request body limit for this route; overrides REPLYGATE_MAX_BODY_BYTES. */
    maxBodyBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .optional(),
    /**
     * What a sync request gets when its timeout passes: `504`, or `202` with a `Location` where the
     * late reply can still be fetched (kept for REPLYGATE_REPLY_TTL_MS). @defaultValue 504
     */
    timeoutResponse: z.union([z.literal(504), z.literal(202)]).default(504),
    /**
     * Stream the reply: the service sends parts (`rg-seq`, then `rg-final`) and the client gets
     * them as NDJSON lines the moment each lands. @defaultValue false
     */
    stream: z.boolean().default(false),
    /**
     * Scatter-gather: the request goes to every consumer group of the topic, and the gateway
     * answers with up to `count` replies, or with what arrived by the deadline.
     */
    gather: z
      .object({ count: z.number().int().min(1).max(1000) })
      .strict()
      .optional(),
    /** Content type of replies that do not state one (Spring and NestJS repliers). @defaultValue `application/json` */
    replyContentType: z.string().min(1).default('application/json'),
    ...routeSecurityFields,
    ...routeCallbackFields,
    ...routeAwaitFields,
  })
  .strict();

const routesFileSchema = z.object({ routes: z.array(routeSchema).min(1) }).strict();

/** A route as written in the routes file, defaults applied. */
export type RouteSpec = z.output<typeof routeSchema>;

/** A route with every gateway-level default resolved. */
export interface RouteDefinition extends Omit<
  RouteSpec,
  'name' | 'timeoutMs' | 'maxBodyBytes' | 'forwardHeaders' | 'auth' | 'scopes' | 'rateLimit' | 'topic' | 'await'
> {
  name: string;
  /** The request topic; on a blocking read (no command), the awaited event topic. */
  topic: string;
  /** Answer with a matching event instead of a correlated reply (see `config/route-await.ts`). */
  await: RouteAwait | undefined;
  timeoutMs: number;
  maxBodyBytes: number;
  forwardHeaders: readonly string[];
  /** How callers authenticate (route `auth`, else REPLYGATE_AUTH_DEFAULT). */
  auth: AuthMethod;
  /** Scopes the caller must all hold; empty for none. */
  scopes: readonly string[];
  /** Per-caller limit (route `rateLimit`, else REPLYGATE_RATE_LIMIT_*), or none. */
  rateLimit: RateLimitSpec | undefined;
}

/**
 * Parse and validate routes from YAML text, resolving defaults from the gateway config.
 * Throws {@link ConfigError} naming the route index and field of every problem.
 */
export function parseRoutes(
  yamlText: string,
  defaults: Pick<GatewayConfig, 'timeoutMs' | 'maxBodyBytes' | 'forwardHeaders'> & RouteSecurityDefaults,
  source = 'routes file',
): RouteDefinition[] {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (cause) {
    throw new ConfigError(`${source}: not valid YAML: ${(cause as Error).message}`, [], { cause });
  }
  const result = routesFileSchema.safeParse(doc);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}${suggestion(i)}`,
    );
    throw new ConfigError(`Invalid routes:\n  ${issues.join('\n  ')}`, issues);
  }
  const routes = result.data.routes.map((r, index): RouteDefinition => {
    const security = resolveRouteSecurity(r, defaults);
    if (typeof security === 'string') {
      const msg = `${source}: routes.${index}.${security}`;
      throw new ConfigError(`Invalid routes:\n  ${msg}`, [msg]);
    }
    const awaitProblem = awaitFieldProblem(r);
    if (awaitProblem !== undefined) {
      const msg = `${source}: routes.${index}.${awaitProblem}`;
      throw new ConfigError(`Invalid routes:\n  ${msg}`, [msg]);
    }
    const forward = [...(r.forwardHeaders?.map((h) => h.toLowerCase()) ?? defaults.forwardHeaders)];
    // The opt-in flags are enough on their own: no need to list the header again.
    if (r.forwardAuthorization && !forward.includes('authorization')) forward.push('authorization');
    if (r.forwardCookie && !forward.includes('cookie')) forward.push('cookie');
    return {
      ...r,
      topic: r.topic ?? r.await?.topic ?? '',
      await: r.await === undefined ? undefined : resolveAwait(r.await, r.topic !== undefined, r.stream),
      name: r.name ?? `${r.method} ${r.path}`,
      timeoutMs: r.timeoutMs ?? defaults.timeoutMs,
      maxBodyBytes: r.maxBodyBytes ?? defaults.maxBodyBytes,
      forwardHeaders: forward.filter(
        (h) =>
          (h !== 'authorization' || r.forwardAuthorization) &&
          (h !== 'cookie' || r.forwardCookie) &&
          !isGatewayReservedHeader(h),
      ),
      ...security,
    };
  });
  const fail = (msg: string): never => {
    throw new ConfigError(`Invalid routes:\n  ${source}: ${msg}`, [`${source}: ${msg}`]);
  };
  for (const [index, r] of routes.entries()) {
    // Same rule as the router: case-insensitive, so /Admin/routes is refused rather than unreachable.
    const reserved = reservedPathOf(r.path);
    if (reserved !== undefined) fail(`routes.${index}.path: ${r.path} is reserved by the gateway (${reserved})`);
  }
  const shapes = new Map<string, number>();
  const names = new Map<string, number>();
  for (const [index, r] of routes.entries()) {
    // Paths match case-insensitively, so /Orders and /orders are the same route.
    const shape = `${r.method} ${pathMatchKey(r.path).replace(/:[^/]+/g, ':')}`;
    const first = shapes.get(shape);
    if (first !== undefined) {
      fail(`routes.${index}: duplicate route ${r.method} ${r.path} (same as routes.${first}: ${routes[first]?.path})`);
    }
    shapes.set(shape, index);
    // The name is what a service dispatches on (rg-route): two routes sharing it would be confused.
    const sameName = names.get(r.name);
    if (sameName !== undefined) fail(`routes.${index}.name: "${r.name}" is already the name of routes.${sameName}`);
    names.set(r.name, index);
  }
  return routes;
}

const ROUTE_FIELDS = Object.keys(routeSchema.shape);

/** `field: problem` when a route's `topic`/`await` combination is unusable, else undefined. */
function awaitFieldProblem(r: RouteSpec): string | undefined {
  if (r.await === undefined) {
    return r.topic === undefined ? 'topic: required (or an await block, for a blocking read)' : undefined;
  }
  if (r.gather !== undefined) return 'await: not with gather';
  if (r.callbacks !== undefined) return 'callbacks: not supported with await (the event relay starts no webhook)';
  if (r.topic === undefined && r.key !== undefined)
    return 'key: a blocking read (await without topic) publishes nothing to key';
  const fromReply = Object.entries(r.await.match).find(([, request]) => isReplyExpression(request));
  if (r.topic === undefined && fromReply !== undefined) {
    return `await.match.${fromReply[0]}: ${fromReply[1]} reads the reply to a command, and a blocking read (await without topic) sends none`;
  }
  return undefined;
}

/** ` (did you mean timeoutMs?)` for an unknown route field close to a known one. */
function suggestion(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'unrecognized_keys' || issue.path.length !== 2) return '';
  const hints = issue.keys.flatMap((key) => {
    const near = didYouMean(key, ROUTE_FIELDS);
    return near === undefined ? [] : [`${key} → did you mean ${near}?`];
  });
  return hints.length === 0 ? '' : ` (${hints.join('; ')})`;
}

/** Read and parse the routes file named by `REPLYGATE_ROUTES`. */
export function loadRoutesFile(
  path: string,
  defaults: Pick<GatewayConfig, 'timeoutMs' | 'maxBodyBytes' | 'forwardHeaders'> & RouteSecurityDefaults,
): RouteDefinition[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`REPLYGATE_ROUTES (--routes): cannot read ${path}: ${(cause as Error).message}`, [], {
      cause,
    });
  }
  return parseRoutes(text, defaults, path);
}
