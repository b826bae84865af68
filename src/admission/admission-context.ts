import type { Request, Response } from 'express';
import type { RouteDefinition } from '../config/routes-file';

import type { CallerIdentity } from '../protocol/caller-identity';

/** What every stage sees about the request in hand. */
export interface GatewayRequestContext {
  req: Request;
  res: Response;
  route: RouteDefinition;
  params: Record<string, string>;
  correlationId: string;
  /** Set by an authentication stage; `undefined` for anonymous callers. */
  identity?: CallerIdentity;
}

/**
 * One step run after the route matched and before the body is read: authentication, rate limits,
 * CORS. A stage refuses a request by throwing a `ReplygateError` (answered as a problem body), or
 * may add to the context (e.g. `identity`) and set response headers.
 */
export type RequestStage = (ctx: GatewayRequestContext) => void | Promise<void>;
