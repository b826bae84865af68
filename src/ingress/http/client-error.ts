import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { BadRequestError } from '../../errors/http-errors';
import { RequestTimeoutError } from '../../errors/request-errors';
import { type ReplygateError } from '../../errors/replygate-error';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import { problemBody } from './problem-response';

/** Sockets whose request node's HTTP server gave up on for slowness (see {@link wasTimedOut}). */
const timedOut = new WeakSet<object>();

/**
 * Whether node's HTTP server timed out the request on this socket (REPLYGATE_HEADERS_TIMEOUT_MS /
 * REPLYGATE_REQUEST_TIMEOUT_MS). A body read that fails because of it is a 408, not an abort.
 */
export function wasTimedOut(socket: object | null | undefined): boolean {
  return socket !== null && socket !== undefined && timedOut.has(socket);
}

/** The in-flight response node keeps on a server socket, when headers were parsed. */
interface ServerSocket {
  _httpMessage?: { headersSent?: boolean } | null;
}

/**
 * Requests node's HTTP parser refuses before express sees them (headers over the limit, malformed
 * request lines) and requests too slow to arrive (node's `ERR_HTTP_REQUEST_TIMEOUT`, headers or
 * body) still get a JSON problem body, not a bare socket close: 431, 400 or 408. Counted by reason
 * in `replygate_client_errors_total`.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex, metrics?: GatewayMetrics): void {
  const { error, status } = clientProblem(err, socket);
  metrics?.clientErrors.inc({ reason: reasonOf(err) });
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
  // Never write into a response already on its way: the client would read garbage.
  if (!socket.writable || (socket as ServerSocket)._httpMessage?.headersSent === true) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ ...problemBody(error, undefined), status });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function clientProblem(err: NodeJS.ErrnoException, socket: Duplex): { error: ReplygateError; status: number } {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    // node has a response object once the headers were parsed: then it was the body that was slow.
    const error = new RequestTimeoutError((socket as ServerSocket)._httpMessage ? 'body' : 'headers');
    return { error, status: error.status };
  }
  // 431 keeps the RG_BAD_REQUEST code clients already match on.
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return { error: new BadRequestError('Request headers are too large'), status: 431 };
  return { error: new BadRequestError('Malformed HTTP request'), status: 400 };
}

function reasonOf(err: NodeJS.ErrnoException): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'timeout';
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  return 'malformed';
}
