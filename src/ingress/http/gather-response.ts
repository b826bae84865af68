import type { ServerResponse } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
import type { RequestBroker } from '../../exchange/request-broker';
import type { StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import { replyBodyField } from '../../protocol/reply-body';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import type { GatherRegistry } from '../../exchange/gather-registry';
import { sendJson } from './send-json';

/**
 * Answer a scatter-gather route: publish once (every consumer group of the topic gets it), then
 * answer `200` with `{ complete, expected, replies: [{ status, contentType, body }] }` once
 * `gather.count` replies arrived, or at the deadline with those that did (`complete: false`).
 * A reply the gateway cannot use (see `decoder`) is listed as `{ status: 502, error }`.
 */
export async function answerGathered(
  res: ServerResponse,
  broker: RequestBroker,
  gathers: GatherRegistry,
  request: OutgoingRequest,
  route: RouteDefinition & { gather: { count: number } },
  decoder: StoredReplyDecoder,
): Promise<void> {
  const result = gathers.gather(request.correlationId, route.gather.count, route.timeoutMs, (cancel) => {
    res.on('close', () => {
      if (!res.writableEnded) cancel();
    });
  });
  try {
    await broker.publishOnly(request);
  } catch (err) {
    gathers.cancel(request.correlationId);
    throw err;
  }
  const { replies, complete } = await result;
  if (res.destroyed) return;
  const items = replies
    .sort((a, b) => a.meta.receivedAt - b.meta.receivedAt)
    .map((envelope) => {
      try {
        const reply = decoder.decode(envelope, route);
        return { status: reply.status, contentType: reply.contentType, ...replyBodyField(reply, { parseJson: true }) };
      } catch (err) {
        return { status: 502, error: 'RG_REPLY_MALFORMED', detail: (err as Error).message };
      }
    });
  sendJson(res, 200, { complete, expected: route.gather.count, received: items.length, replies: items });
}
