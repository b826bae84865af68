import type { Producer } from 'kafkajs';
import { NEST_HEADERS, RG_HEADERS } from '../protocol/kafka-headers';
import { encodeReply } from './encode-reply';
import type { ReplyAddress } from './decode-request';
import type { ResponderReply } from './request-context';

/**
 * Send a streamed reply: one message per part with `rg-seq` 0, 1, …, then a final marker with the
 * next sequence number and `rg-final: true`. Each part is sent (and acknowledged) before the next,
 * so a failure leaves the request's offset uncommitted and the whole stream is sent again
 * (the gateway's `SET NX` per part absorbs the repeats).
 */
export async function sendParts(
  producer: Producer,
  address: ReplyAddress,
  reply: ResponderReply,
  heartbeat: () => Promise<void>,
): Promise<number> {
  const { parts, body: _body, ...template } = reply;
  let seq = 0;
  const send = async (body: unknown, final: boolean): Promise<void> => {
    const encoded = encodeReply({ ...template, body }, address);
    encoded.headers[RG_HEADERS.seq] = String(seq);
    if (final) encoded.headers[RG_HEADERS.final] = 'true';
    // A NestJS requester's stream ends at the first reply marked disposed: only the final marker is.
    else delete encoded.headers[NEST_HEADERS.isDisposed];
    await producer.send({
      topic: address.topic,
      messages: [{ key: null, value: encoded.value, headers: encoded.headers, partition: address.partition }],
    });
    seq++;
  };
  for await (const part of parts ?? []) {
    await send(part, false);
    await heartbeat().catch(() => undefined);
  }
  await send(undefined, true);
  return seq;
}
