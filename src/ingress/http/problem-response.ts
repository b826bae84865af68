import { HTTP_HEADERS } from '../../protocol/http-headers';
import type { ServerResponse } from 'node:http';
import { type ReplygateError } from '../../errors/replygate-error';
import { sendText } from './send-json';

/**
 * The one error body replygate answers with: RFC 9457 problem details
 * (`application/problem+json`) plus `error` (the stable code) and `correlationId`.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  error: string;
  correlationId?: string;
  [extension: string]: unknown;
}

/** Build the problem body for an error. */
export function problemBody(err: ReplygateError, correlationId: string | undefined): ProblemBody {
  const body: ProblemBody = {
    type: `urn:replygate:error:${err.code}`,
    title: err.code,
    status: err.status,
    detail: err.message,
    error: err.code,
  };
  const id = err.correlationId ?? correlationId;
  if (id !== undefined) body.correlationId = id;
  if (err.details !== undefined) Object.assign(body, { details: err.details });
  return body;
}

/** Send an error as a problem response; adds `Retry-After` for retriable 503s. */
export function sendProblem(res: ServerResponse, err: ReplygateError, correlationId?: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err.status === 503 && err.retriable) res.setHeader(HTTP_HEADERS.retryAfter, '1');
  if (err.status === 405 && Array.isArray(err.details?.['allowed'])) {
    res.setHeader('allow', (err.details['allowed'] as string[]).join(', '));
  }
  sendText(res, err.status, JSON.stringify(problemBody(err, correlationId)), 'application/problem+json');
}
