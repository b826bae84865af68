import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { BadRequestError, BodyTooLargeError } from '../errors';

/**
 * Read the whole request body, refusing it as soon as it passes `limitBytes` (a declared
 * Content-Length over the limit is refused before any byte is read).
 */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  try {
    return await getRawBody(req, {
      limit: limitBytes,
      length: declared === undefined ? undefined : Number(declared),
    });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw new BodyTooLargeError(limitBytes, { cause: err });
    if (type === 'request.size.invalid') {
      throw new BadRequestError('Request body length does not match Content-Length', { cause: err });
    }
    if (type === 'request.aborted') throw new BadRequestError('Client aborted the request body', { cause: err });
    throw err;
  }
}
