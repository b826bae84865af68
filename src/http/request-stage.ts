import type { Request, Response } from 'express';
import type { RouteDefinition } from '../config/routes-file';

/** Who is calling, as established by an authentication stage. */
export interface CallerIdentity {
  /** Subject: the JWT `sub`, or the API key's owner. */
  subject: string;
  /** Id of the API key or JWT key that authenticated the caller, when there is one. */
  keyId?: string;
  /** Granted scopes. */
  scopes: readonly string[];
  /** How the caller authenticated. */
  method: 'apiKey' | 'jwt';
  /**
   * Stable, non-secret fingerprint of the credential (e.g. a hash of the API key id or of
   * `iss`+`sub`), used to bind stored replies to their caller.
   */
  principal: string;
}

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
