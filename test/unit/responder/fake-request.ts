import type { IHeaders, KafkaMessage } from 'kafkajs';
import { decodeRequest } from '../../../src/responder/decode-request';
import { encodeReply } from '../../../src/responder/encode-reply';
import { replyForError } from '../../../src/responder/error-reply';
import { type RequestContext, type RequestHandler } from '../../../src/responder/request-context';

/** What a test request carries; anything left out is not sent. */
export interface FakeRequest {
  correlationId?: string;
  replyTo?: string;
  deadline?: number;
  route?: string;
  method?: string;
  path?: string;
  params?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  contentType?: string;
  body?: string | Buffer | object;
}

/** A Kafka message in the gateway's native dialect, as `buildRequestMessage` would write it. */
export function requestMessage(r: FakeRequest = {}, extraHeaders: IHeaders = {}): KafkaMessage {
  const headers: IHeaders = {};
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) headers[name] = Buffer.from(value);
  };
  set('rg-correlation-id', 'correlationId' in r ? r.correlationId : 'gw-1.AAAAAAAAAAAAAAAAAAAAAA');
  set('rg-reply-to', 'replyTo' in r ? r.replyTo : 'replygate.replies');
  set('rg-deadline', r.deadline === undefined ? undefined : String(r.deadline));
  set('rg-route', r.route);
  set('rg-method', r.method);
  set('rg-path', r.path);
  set('rg-params', r.params && JSON.stringify(r.params));
  set('rg-query', r.query && JSON.stringify(r.query));
  set('rg-headers', r.headers && JSON.stringify(r.headers));
  let value: Buffer | null = null;
  let contentType = r.contentType;
  if (Buffer.isBuffer(r.body)) value = r.body;
  else if (typeof r.body === 'string') value = Buffer.from(r.body);
  else if (r.body !== undefined) {
    value = Buffer.from(JSON.stringify(r.body));
    contentType ??= 'application/json';
  }
  set('content-type', contentType);
  Object.assign(headers, extraHeaders);
  return { key: null, value, headers, timestamp: '0', attributes: 0, offset: '0' };
}

/** A request context built the way the responder builds it, from a fake message. */
export function fakeContext(r: FakeRequest = {}): RequestContext {
  const decoded = decodeRequest(requestMessage(r));
  if (!decoded.ok) throw new Error(`fake request was not decoded: ${decoded.reason}`);
  return decoded.context;
}

/** A reply as the gateway would read it back: status, parsed body and headers. */
export interface ObservedReply {
  status: number;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Call a handler as the responder does (thrown errors become error replies) and decode the reply
 * the way a client would see it.
 */
export async function callHandler(handler: RequestHandler, r: FakeRequest): Promise<ObservedReply> {
  const ctx = fakeContext(r);
  let reply;
  try {
    reply = await handler(ctx);
  } catch (err) {
    reply = replyForError(err);
  }
  const { value, headers } = encodeReply(reply, { correlationId: ctx.correlationId, springCorrelationId: undefined });
  const text = value.toString('utf8');
  const contentType = headers['content-type'] as string | undefined;
  return {
    status: Number(headers['rg-status']),
    contentType,
    headers:
      headers['rg-headers'] === undefined ? {} : (JSON.parse(String(headers['rg-headers'])) as Record<string, string>),
    body: contentType?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text,
  };
}
