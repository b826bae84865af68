import { CallbackDeliveryError } from '../errors/callback-errors';
import type { CallbackSecret } from '../config/callback-secret';
import type { WebhookJobData } from './webhook-job';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/**
 * POST one callback, signed with the route's secret. Redirects are not followed (a 3xx is a
 * failure): the allow-list decided where the gateway may send, a redirect may not widen it.
 * Resolves on 2xx; throws {@link CallbackDeliveryError} otherwise.
 */
export async function sendCallback(
  job: WebhookJobData,
  secret: CallbackSecret,
  attempt: number,
  timeoutMs: number,
): Promise<number> {
  let res: Response;
  try {
    res = await fetch(job.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'replygate-webhooks',
        'replygate-correlation-id': job.correlationId,
        'replygate-delivery-attempt': String(attempt),
        [SIGNATURE_HEADER]: signWebhook(secret.reveal(), job.body),
      },
      body: job.body,
    });
  } catch (cause) {
    throw new CallbackDeliveryError(`callback not reachable: ${(cause as Error).message}`, undefined, { cause });
  }
  // The answer's body is not ours to read; release the connection.
  await res.body?.cancel().catch(() => undefined);
  if (res.status < 200 || res.status > 299) {
    throw new CallbackDeliveryError(`callback answered ${res.status}`, res.status);
  }
  return res.status;
}
