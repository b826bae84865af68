import { HTTP_HEADERS } from '../protocol/http-headers';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying a callback's signature. */
export const SIGNATURE_HEADER = HTTP_HEADERS.signature;

/**
 * Sign a callback body: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The timestamp is
 * inside the MAC so a receiver can refuse replays older than its tolerance.
 *
 * @example
 * const header = signWebhook(secret, body); // "t=1767225600,v1=5f2b…"
 */
export function signWebhook(
  secret: Buffer | string,
  body: Buffer | string,
  nowSec = Math.floor(Date.now() / 1000),
): string {
  const mac = createHmac('sha256', secret).update(`${nowSec}.`).update(body).digest('hex');
  return `t=${nowSec},v1=${mac}`;
}

/** Options of {@link verifyWebhookSignature}. */
export interface VerifyOptions {
  /** Largest accepted age of the signature's timestamp, in seconds. @defaultValue 300 */
  toleranceSec?: number;
  /** The receiver's clock, in unix seconds. @defaultValue now */
  nowSec?: number;
}

/**
 * Verify a `Replygate-Signature` header, for receivers (and tests): true when one `v1` value
 * matches the body under `secret` and the timestamp is within the tolerance.
 *
 * @example
 * if (!verifyWebhookSignature(secret, rawBody, req.headers['replygate-signature'])) res.status(401).end();
 */
export function verifyWebhookSignature(
  secret: Buffer | string,
  body: Buffer | string,
  header: string | undefined,
  options: VerifyOptions = {},
): boolean {
  if (header === undefined) return false;
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  if (t === undefined || !/^\d{1,12}$/.test(t)) return false;
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - Number(t)) > (options.toleranceSec ?? 300)) return false;
  const expected = Buffer.from(signWebhook(secret, body, Number(t)).split('v1=')[1] ?? '', 'hex');
  return parts.some(([k, v]) => {
    if (k !== 'v1' || v === undefined || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, 'hex'), expected);
  });
}
