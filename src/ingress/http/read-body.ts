import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import getRawBody from 'raw-body';
import { BadRequestError, BodyTooLargeError } from '../../errors/http-errors';
import { RequestTimeoutError, UnsupportedContentEncodingError } from '../../errors/request-errors';
import { wasTimedOut } from './client-error';

/** `Content-Encoding` values the gateway decodes, and their decoders. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** The encodings named in 415 answers. */
export const SUPPORTED_CONTENT_ENCODINGS = ['gzip', 'deflate', 'br'] as const;

/**
 * Read the whole request body, refusing it as soon as it passes `limitBytes` (a declared
 * Content-Length over the limit is refused before any byte is read). A body sent with
 * `Content-Encoding: gzip`, `deflate` or `br` is decoded, and the limit applies to the decoded
 * bytes as they come out of the decoder, so a small compression bomb is stopped after `limitBytes`,
 * never inflated in full (413). Any other encoding, or several stacked, is refused with 415. The
 * service gets the decoded body, so the request carries no `Content-Encoding` on.
 *
 * @example
 * const body = await readBody(req, route.maxBodyBytes); // 413, 415, 408 or 400 as ReplygateErrors
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const coding = contentCoding(req.headers['content-encoding']);
  const declared = req.headers['content-length'];
  const decoder = coding === undefined ? undefined : DECODERS[coding];
  if (coding !== undefined && decoder === undefined) {
    throw new UnsupportedContentEncodingError(coding, SUPPORTED_CONTENT_ENCODINGS);
  }
  try {
    if (decoder === undefined) {
      return await getRawBody(req, {
        limit: limitBytes,
        length: declared === undefined ? undefined : Number(declared),
      });
    }
    // The compressed bytes count against the limit too: a body that does not shrink is no cheaper to take.
    if (declared !== undefined && Number(declared) > limitBytes) throw new BodyTooLargeError(limitBytes);
    return await readDecoded(req, decoder(), limitBytes);
  } catch (err) {
    if (wasTimedOut(req.socket)) throw new RequestTimeoutError('body', { cause: err });
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new BodyTooLargeError(limitBytes, { cause: err });
    if (type === 'request.size.invalid') {
      throw new BadRequestError('Request body length does not match Content-Length', { cause: err });
    }
    if (type === 'request.aborted') throw new BadRequestError('Client aborted the request body', { cause: err });
    throw err;
  }
}

/** The one content coding of the header, lower-cased; `undefined` for none or `identity`. */
function contentCoding(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const codings = header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
  if (codings.length === 0) return undefined;
  // One decoder at most: stacked codings multiply the work a bomb can ask for and no client needs them.
  return codings.length === 1 ? codings[0] : codings.join(', ');
}

/**
 * Pump `req` through `decoder`, counting compressed and decoded bytes. Over the limit, the decoder
 * is destroyed at once and the rest of `req` is drained without decoding (not destroyed: the 413
 * still has to be written on its socket).
 */
function readDecoded(req: IncomingMessage, decoder: Transform, limitBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let decodedBytes = 0;
    let encodedBytes = 0;
    let settled = false;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      req.off('close', onClose);
      decoder.off('drain', onDrain);
    };
    const finish = (err: Error | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (err === undefined) return resolve(body as Buffer);
      decoder.destroy();
      // Drain the rest unread (no listener holds it), so the error answer is written and read.
      req.resume();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      encodedBytes += chunk.length;
      if (encodedBytes > limitBytes) return finish(new BodyTooLargeError(limitBytes));
      if (!decoder.write(chunk)) req.pause();
    };
    const onDrain = (): void => {
      if (!settled) req.resume();
    };
    const onEnd = (): void => {
      decoder.end();
    };
    const onAborted = (): void => finish(Object.assign(new Error('request aborted'), { type: 'request.aborted' }));
    const onError = (err: Error): void => finish(err);
    // 'close' before 'end' is an abort by another name (the socket went away).
    const onClose = (): void => {
      if (!req.complete) onAborted();
    };
    decoder.on('data', (chunk: Buffer) => {
      if (settled) return;
      decodedBytes += chunk.length;
      if (decodedBytes > limitBytes) return finish(new BodyTooLargeError(limitBytes));
      chunks.push(chunk);
    });
    decoder.on('error', (err: Error) => {
      finish(new BadRequestError(`Request body is not valid for its Content-Encoding: ${err.message}`, { cause: err }));
    });
    decoder.on('end', () => finish(undefined, Buffer.concat(chunks, decodedBytes)));
    decoder.on('drain', onDrain);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
