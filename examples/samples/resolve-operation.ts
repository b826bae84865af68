import { type RequestContext } from 'replygate/responder';
import { ResponderError } from 'replygate/responder';

/** One operation a sample serves: its route name, and the method and path that also identify it. */
export interface SampleOperation<N extends string = string> {
  name: N;
  method: string;
  /** Matches the whole path; named groups become the path parameters. */
  path: RegExp;
}

/** The operation a request asks for, with its path parameters. */
export interface ResolvedOperation<N extends string = string> {
  name: N;
  params: Readonly<Record<string, string>>;
}

/**
 * Pick the operation for a request: by `rg-route` when it names one of `operations`, else by
 * method and path (routes without a `name`, or a requester that is not the gateway).
 * Throws a 404 `ResponderError` (code `UNKNOWN_OPERATION`) when neither matches.
 */
export function resolveOperation<N extends string>(
  ctx: RequestContext,
  operations: readonly SampleOperation<N>[],
): ResolvedOperation<N> {
  if (ctx.route !== undefined) {
    for (const op of operations) if (op.name === ctx.route) return { name: op.name, params: ctx.params };
  }
  if (ctx.method !== undefined && ctx.path !== undefined) {
    for (const op of operations) {
      if (op.method !== ctx.method) continue;
      const m = op.path.exec(ctx.path);
      if (m !== null) return { name: op.name, params: { ...ctx.params, ...decodeGroups(m.groups) } };
    }
  }
  throw new ResponderError(
    404,
    `No operation for route ${ctx.route ?? '(none)'} (${ctx.method ?? '?'} ${ctx.path ?? '?'})`,
    { route: ctx.route ?? null, method: ctx.method ?? null, path: ctx.path ?? null },
    { code: 'UNKNOWN_OPERATION' },
  );
}

function decodeGroups(groups: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (groups === undefined) return out;
  for (const [k, v] of Object.entries(groups)) {
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}
