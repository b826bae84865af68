import type { Duplex } from 'node:stream';

/**
 * Requests node's HTTP parser refuses before express sees them (headers over the limit, malformed
 * request lines) still get a JSON problem body, not a bare socket close.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify({
    type: 'urn:replygate:error:RG_BAD_REQUEST',
    title: 'RG_BAD_REQUEST',
    status,
    detail: tooLarge ? 'Request headers are too large' : 'Malformed HTTP request',
    error: 'RG_BAD_REQUEST',
  });
  socket.end(
    `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
      `content-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
