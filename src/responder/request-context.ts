/** Query-string values as the gateway forwards them: a string, or an array when the key repeats. */
export type QueryValue = string | string[];

/**
 * One request as a handler sees it: the HTTP context the gateway forwarded in `rg-*` headers,
 * plus the raw body. Fields the request did not carry are `undefined` (a Spring or NestJS
 * requester sends only a correlation id and a reply topic) or empty objects.
 */
export interface RequestContext {
  /** Correlation id; copied onto the reply. */
  readonly correlationId: string;
  /** Route name from `rg-route` (the routes file's `name`, or `"<METHOD> <path>"`). */
  readonly route: string | undefined;
  /** HTTP method from `rg-method`, upper-case. */
  readonly method: string | undefined;
  /** Request path from `rg-path`, without the query string. */
  readonly path: string | undefined;
  /** Path parameters from `rg-params`. */
  readonly params: Readonly<Record<string, string>>;
  /** Query string from `rg-query`. */
  readonly query: Readonly<Record<string, QueryValue>>;
  /** Allow-listed client headers from `rg-headers`, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Content type of the body, from `content-type`. */
  readonly contentType: string | undefined;
  /** Raw request body; empty when there was none. */
  readonly body: Buffer;
  /** Epoch ms after which the caller has given up (`rg-deadline`), when the gateway sent one. */
  readonly deadline: number | undefined;
  /**
   * The caller as the gateway authenticated it (`rg-auth-*` headers); `undefined` for routes with
   * `auth: none`. Only the gateway writes these Kafka headers: client HTTP headers of the same
   * names are never forwarded.
   */
  readonly identity?: CallerInfo | undefined;
  /**
   * The body parsed as JSON (parsed once, then cached). Throws a `ResponderError` with status 400
   * and code `INVALID_JSON` when the body is empty or not JSON. The type argument is not checked:
   * validate the result (e.g. with zod) before trusting it.
   */
  json<T = unknown>(): T;
}

/** An authenticated caller, as a service sees it. */
export interface CallerInfo {
  /** The JWT `sub`, or the API key's owner. */
  readonly subject: string;
  /** Id of the API key, or `kid` of the JWT's signing key, when there is one. */
  readonly keyId?: string | undefined;
  /** Granted scopes. */
  readonly scopes: readonly string[];
  /** How the caller authenticated. */
  readonly method: 'apiKey' | 'jwt';
}

/**
 * What a handler answers with. Returning nothing replies 200 with an empty body.
 *
 * @example
 * return { status: 201, body: order, headers: { location: `/orders/${order.id}` } };
 */
export interface ResponderReply {
  /** HTTP status, 200–599. @defaultValue 200 */
  status?: number;
  /**
   * Reply body. A `Buffer` or string is sent as-is; anything else is JSON-encoded.
   * `undefined` sends an empty body.
   */
  body?: unknown;
  /**
   * Content type of the body.
   * @defaultValue `application/octet-stream` for a Buffer, `text/plain; charset=utf-8` for a string,
   * `application/json` for a JSON-encoded body, none for an empty body
   */
  contentType?: string;
  /** Extra HTTP response headers; the gateway drops hop-by-hop and reserved names. */
  headers?: Record<string, string>;
  /**
   * A streamed reply: each item is sent as its own reply part (`rg-seq` 0, 1, …), then a final
   * marker (`rg-final: true`). The gateway streams the parts to the client in order as they land,
   * on routes with `stream: true`. `status`, `headers` and `contentType` apply to every part;
   * `body` is ignored.
   */
  parts?: Iterable<unknown> | AsyncIterable<unknown>;
}

/**
 * A service's request handler. Throw a `ResponderError` to answer with an error status; any other
 * error is answered 500 without its message.
 */
export type RequestHandler = (ctx: RequestContext) => ResponderReply | void | Promise<ResponderReply | void>;
