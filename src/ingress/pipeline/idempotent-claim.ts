import type { RouteDefinition } from '../../config/routes-file';
import { BadRequestError, IdempotencyKeyReusedError } from '../../errors/http-errors';
import { idempotencyScope } from '../../exchange/idempotency-scope';
import {
  IDEMPOTENCY_KEY_PATTERN,
  requestFingerprint,
  type RedisIdempotencyStore,
} from '../../exchange/idempotency-store';
import type { GatewayMetrics } from '../../observability/gateway-metrics';
import type { CallerIdentity } from '../../protocol/caller-identity';
import { HTTP_HEADERS } from '../../protocol/http-headers';
import type { RequestBody } from '../../routing/accept-body';
import type { Answer, Inbound } from './inbound';

/** What an `Idempotency-Key` decided: which reply to answer with, and how to give the key back. */
export interface IdempotentClaim {
  /** The correlation id whose reply answers this request: its own, or the first attempt's. */
  replyId: string;
  /** A retry: the first attempt's reply is followed, nothing is published. */
  followExisting: boolean;
  /** Releases the claim when nothing was published, so a retry publishes again. */
  release?: (() => Promise<void>) | undefined;
}

/**
 * Claim the request's `Idempotency-Key` (route and caller scoped), when the pipeline has an
 * idempotency store and the request carries one; otherwise the request answers with its own id.
 * A retry with the same key and request follows the first attempt's reply (`Idempotent-Replayed`);
 * the same key with another request is refused (422).
 */
export async function claimIdempotencyKey(
  inbound: Inbound,
  answer: Pick<Answer, 'setHeader'>,
  deps: { idempotency?: RedisIdempotencyStore | undefined; metrics: GatewayMetrics },
  request: { route: RouteDefinition; identity: CallerIdentity | undefined; body: RequestBody; correlationId: string },
): Promise<IdempotentClaim> {
  const { correlationId } = request;
  const idempotencyKey = inbound.headers[HTTP_HEADERS.idempotencyKey];
  const store = deps.idempotency;
  if (idempotencyKey === undefined || store === undefined) return { replyId: correlationId, followExisting: false };
  if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
    throw new BadRequestError('Idempotency-Key must be 1-255 printable ASCII characters without spaces');
  }
  const fingerprint = requestFingerprint(inbound.method, inbound.fingerprintUrl, request.body.bytes);
  // Route and caller: another caller's identical key must neither replay nor reveal this one.
  const scope = idempotencyScope(request.route.name, request.identity, inbound.clientIp);
  const claim = await store.claim(scope, idempotencyKey, fingerprint, correlationId);
  if (claim.kind === 'mismatch') throw new IdempotencyKeyReusedError();
  if (claim.kind === 'existing') {
    // A retry: answer with the first attempt's reply, whichever replica it went through.
    answer.setHeader(HTTP_HEADERS.correlationId, claim.correlationId);
    answer.setHeader(HTTP_HEADERS.idempotentReplayed, 'true');
    deps.metrics.idempotentReplays.inc();
    return { replyId: claim.correlationId, followExisting: true };
  }
  return {
    replyId: correlationId,
    followExisting: false,
    release: () => store.release(scope, idempotencyKey, fingerprint, correlationId),
  };
}
