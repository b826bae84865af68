import type { ServerResponse } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
import { ReplyTimeoutError, UnavailableError } from '../../errors/reply-errors';
import type { RequestBroker } from '../../exchange/request-broker';
import { replyBodyField } from '../../protocol/reply-body';
import type { StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { DecodedReply } from '../../protocol/reply-envelope';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import type { StreamEnd, StreamRegistry } from '../../exchange/stream-registry';

/**
 * Answer a `stream: true` route: publish, then write each reply part to the client as one NDJSON
 * line (`{"seq":0,"status":200,"body":…}`) the moment it lands, in order, ending on the final
 * marker. The first part's status and headers become the response's. A deadline that passes
 * before the first part is a 504 like any other; one that passes mid-stream ends the stream with
 * an error line, since the status has already been sent. A part the gateway cannot use (see
 * `decoder`: the configured header caps) becomes an `RG_REPLY_MALFORMED` line.
 */
export function answerStreamed(
  res: ServerResponse,
  broker: RequestBroker,
  streams: StreamRegistry,
  request: OutgoingRequest,
  route: RouteDefinition,
  decoder: StoredReplyDecoder,
): Promise<StreamEnd> {
  return new Promise<StreamEnd>((resolve, reject) => {
    let started = false;
    let publishError: unknown;
    const start = (reply: DecodedReply | undefined): void => {
      started = true;
      res.statusCode = reply?.status ?? 200;
      for (const [name, value] of Object.entries(reply?.headers ?? {})) res.setHeader(name, value);
      res.setHeader('content-type', 'application/x-ndjson');
      res.setHeader('cache-control', 'no-store');
    };
    const cancel = streams.open(request.correlationId, route.timeoutMs, {
      onPart(part, seq) {
        let line: string;
        try {
          const reply = decoder.decode(part, route);
          if (!started) start(reply);
          line = JSON.stringify({ seq, status: reply.status, ...replyBodyField(reply, { parseJson: true }) });
        } catch (err) {
          if (!started) start(undefined);
          line = JSON.stringify({ seq, error: 'RG_REPLY_MALFORMED', detail: (err as Error).message });
        }
        res.write(`${line}\n`);
      },
      onEnd(reason, next) {
        if (publishError !== undefined) return reject(publishError);
        if (!started) {
          if (reason === 'complete') {
            start(undefined);
            res.end();
            return resolve(reason);
          }
          if (reason === 'timeout')
            return reject(new ReplyTimeoutError(request.correlationId, route.topic, route.timeoutMs));
          if (reason === 'read-failed') return reject(new UnavailableError('Redis unreachable while streaming'));
          return resolve(reason); // cancelled: the client went away
        }
        if (reason !== 'complete') {
          const error =
            reason === 'timeout' ? 'RG_REPLY_TIMEOUT' : reason === 'read-failed' ? 'RG_UNAVAILABLE' : 'RG_CANCELLED';
          res.write(`${JSON.stringify({ seq: next, error })}\n`);
        }
        res.end();
        resolve(reason);
      },
    });
    res.on('close', () => {
      if (!res.writableEnded) cancel('cancelled');
    });
    broker.publishOnly(request).catch((err: unknown) => {
      publishError = err;
      cancel('cancelled');
    });
  });
}
