import type { PendingRegistry } from '../../exchange/pending-registry';
import type { RequestStage } from '../../admission/admission-context';
import type { RequestBroker } from '../../exchange/request-broker';
import type { StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { Logger } from '../../observability/logger';
import type { GatewayMetrics } from '../../observability/gateway-metrics';

/** What the WebSocket gateway needs from the running replica. */
export interface WsGatewayDeps {
  instanceId: string;
  replyTopic: string;
  matcher: () => RouteMatcher;
  broker: RequestBroker;
  registry: PendingRegistry;
  metrics: GatewayMetrics;
  log: Logger;
  /** The replica's reply decoder: the configured header caps and dropped-header counting. */
  replyDecoder: StoredReplyDecoder;
  /** Why new requests cannot be admitted right now, or `undefined` when they can. */
  admissionBlocker: () => string | undefined;
  /** Waits out a passing blocker before a frame is refused (see `AdmissionGate.recover`). */
  admissionRecovery?: (reason: string) => Promise<void>;
  /** REPLYGATE_MAX_PENDING. */
  maxPending: number;
  /** REPLYGATE_WS_MAX_IN_FLIGHT: requests one socket may have waiting. */
  maxInFlight: number;
  /** REPLYGATE_WS_MAX_BUFFERED_BYTES: unsent reply bytes before the socket stops reading. */
  maxBufferedBytes: number;
  /** REPLYGATE_WS_HEARTBEAT_MS: ping interval; a socket silent for two is terminated. */
  heartbeatMs: number;
  /**
   * Authentication and rate-limit stages, run per frame with the socket's upgrade request (its
   * `Authorization` or `X-API-Key`). Without them, routes with `auth` or `rateLimit` are refused.
   */
  stages?: readonly RequestStage[];
  /** Largest frame accepted (the largest route body limit plus framing). */
  maxFrameBytes: number;
}
