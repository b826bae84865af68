import type { ServerResponse } from 'node:http';

/**
 * Answer `status` with `body` as JSON (`type`, `application/json` by default, with
 * `charset=utf-8` and a `Content-Length`): what express' `res.status(…).json(…)` wrote, on
 * node's plain response.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  sendText(res, status, JSON.stringify(body), type);
}

/** Answer `status` with `text` (UTF-8) of media type `type`. */
export function sendText(res: ServerResponse, status: number, text: string, type: string): void {
  res.statusCode = status;
  res.setHeader('content-type', `${type}; charset=utf-8`);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
