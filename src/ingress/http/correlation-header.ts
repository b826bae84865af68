import type { IncomingMessage, ServerResponse } from 'node:http';
import { newCorrelationId } from '../../protocol/correlation-id';
import { problemBody } from './problem-response';
import { ReplygateError } from '../../errors/replygate-error';
import { HTTP_HEADERS } from '../../protocol/http-headers';

/**
 * Gives every response of prototype `proto` (express' `app.response`, or a `ServerResponse`
 * subclass' prototype) an `X-Correlation-Id`, as the README promises: responses that set none
 * themselves (health, metrics, admin, OpenAPI, express's own errors) get a fresh id of this
 * replica as they are written. Added at `writeHead`, like the security headers, so requests that
 * set their own id (every gateway request) cost nothing extra.
 */
export function installCorrelationIdHeader(proto: ServerResponse, instanceId: string): void {
  const writeHead = proto.writeHead;
  proto.writeHead = function writeHeadWithCorrelationId(this: ServerResponse, ...args: unknown[]) {
    if (!this.headersSent && !this.hasHeader(HTTP_HEADERS.correlationId)) {
      this.setHeader(HTTP_HEADERS.correlationId, newCorrelationId(instanceId));
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
}

/**
 * The server's `checkExpectation` listener: an `Expect` other than `100-continue` is answered 417
 * with a problem body and an `X-Correlation-Id`, instead of node's bare 417.
 *
 * @example
 * server.on('checkExpectation', answerExpectationFailed(config.instanceId));
 */
export function answerExpectationFailed(instanceId: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    const correlationId = newCorrelationId(instanceId);
    const error = new ReplygateError(
      'RG_EXPECTATION_FAILED',
      'Unsupported Expect header: only 100-continue is supported',
    );
    const body = JSON.stringify(problemBody(error, correlationId));
    res.writeHead(error.status, {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      [HTTP_HEADERS.correlationId]: correlationId,
      connection: 'close',
    });
    res.end(body);
  };
}
