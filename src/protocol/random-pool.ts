import { randomBytes } from 'node:crypto';

/** Bytes drawn from the CSPRNG at once: 256 correlation ids' worth. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * `n` bytes (at most 4096) of CSPRNG output as text, taken from a pool filled 4 KiB at a time, as
 * node's own `randomUUID` does: one `randomBytes` call (tens of microseconds on a busy machine)
 * per few hundred ids instead of one per id, on the request path. Every byte is handed out once;
 * a refill takes a new buffer.
 */
export function randomText(n: number, encoding: 'hex' | 'base64url'): string {
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const text = pool.toString(encoding, offset, offset + n);
  offset += n;
  return text;
}
