import type { WebSocket } from 'ws';
import { ReplyTimeoutError } from '../../errors/reply-errors';
import { ReplygateError } from '../../errors/replygate-error';
import type { CancelWaiter } from '../../exchange/pending-registry';
import { toReplygateError } from '../../errors/to-replygate-error';
import { newCorrelationId } from '../../protocol/correlation-id';
import { errorFrame, parseRequestFrame, replyFrame, type WsRequestFrame } from './ws-frame';
import type { IncomingMessage } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
import type { CallerIdentity } from '../../protocol/caller-identity';
import { admit } from '../../admission/admit';
import { awaitReply } from '../../exchange/await-reply';
import { assertWsAllowed, buildWsRequest, splitPath } from './ws-request';
import type { WsGatewayDeps } from './ws-gateway-deps';

/**
 * One client socket: its requests in flight (keyed by the client's frame id), back-pressure and
 * liveness. Every exchange parks on this replica's registry with a fresh correlation id of this
 * replica, so the usual keyspace wake-up finds it whichever relay stores the reply.
 */
export class WsSession {
  /** Frame id → cancel of its parked exchange (undefined until parked). */
  private readonly inFlight = new Map<string | number, CancelWaiter | undefined>();
  /** Set by the heartbeat, cleared by a pong. */
  alive = true;
  private paused = false;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: WsGatewayDeps,
    /** The upgrade request: its credential authenticates every frame of this socket. */
    private readonly upgrade?: IncomingMessage,
  ) {
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.send(errorFrame(null, new ReplygateError('RG_BAD_REQUEST', 'Send request frames as text (JSON)')));
        return;
      }
      void this.onFrame(
        Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'),
      );
    });
    ws.on('close', () => this.dispose());
    ws.on('error', (err) => deps.log.debug({ err }, 'websocket error'));
  }

  /** Requests of this socket waiting for replies. */
  get size(): number {
    return this.inFlight.size;
  }

  /** Ping, or terminate a socket that did not answer the previous ping. */
  heartbeat(): void {
    if (!this.alive) {
      this.deps.log.debug('websocket missed its heartbeat; terminating');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Close with `code`; requests in flight are cancelled. */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  /** Force the socket shut (after a close handshake that did not finish). */
  terminate(): void {
    this.ws.terminate();
  }

  private dispose(): void {
    this.closed = true;
    for (const cancel of this.inFlight.values()) cancel?.('client-closed');
    this.inFlight.clear();
  }

  /**
   * Admit one frame: the stages (authentication with the upgrade request's credential, rate limits
   * per principal or the socket's address), the replica's blocker and the pending bound. Without
   * stages, protected routes are refused outright.
   */
  private async admitFrame(
    route: RouteDefinition,
    params: Record<string, string>,
    correlationId: string,
  ): Promise<CallerIdentity | undefined> {
    const { deps, upgrade } = this;
    const stages = deps.stages;
    if (stages === undefined || upgrade === undefined) assertWsAllowed(route);
    const withStages = stages !== undefined && upgrade !== undefined;
    return admit(
      {
        transport: 'ws',
        route,
        params,
        correlationId,
        headers: upgrade?.headers ?? {},
        clientIp: upgrade?.socket.remoteAddress,
        // A frame answer carries no headers.
        setHeader: () => undefined,
        appendHeader: () => undefined,
      },
      {
        stages: withStages ? stages : [],
        blocker: deps.admissionBlocker,
        pending: () => deps.registry.size,
        maxPending: deps.maxPending,
      },
    );
  }

  private async onFrame(text: string): Promise<void> {
    const { deps } = this;
    let frame: WsRequestFrame;
    try {
      frame = parseRequestFrame(text);
    } catch (err) {
      const e = toReplygateError(err);
      const id = e.details?.['id'];
      this.send(errorFrame(typeof id === 'string' || typeof id === 'number' ? id : null, e));
      return;
    }
    let routeName = 'unmatched';
    let reserved = false;
    try {
      if (this.inFlight.has(frame.id))
        throw new ReplygateError('RG_BAD_REQUEST', `id ${frame.id} is already in flight`);
      // Matched first (synchronously), so refusals below are counted under the route they were for.
      const { route, params } = deps.matcher().match(frame.method, splitPath(frame.path).path);
      routeName = route.name;
      if (this.ws.bufferedAmount > deps.maxBufferedBytes) {
        throw new ReplygateError('RG_OVERLOADED', 'Replies are not being read (REPLYGATE_WS_MAX_BUFFERED_BYTES)', {
          retriable: true,
        });
      }
      if (this.inFlight.size >= deps.maxInFlight) {
        throw new ReplygateError(
          'RG_OVERLOADED',
          `Too many requests in flight on this socket (REPLYGATE_WS_MAX_IN_FLIGHT=${deps.maxInFlight})`,
          { retriable: true },
        );
      }
      // The slot is taken before anything is awaited, so frames arriving meanwhile see the bound.
      this.inFlight.set(frame.id, undefined);
      reserved = true;
      const correlationId = newCorrelationId(deps.instanceId);
      const identity = await this.admitFrame(route, params, correlationId);
      const request = buildWsRequest(frame, route, params, correlationId, deps.replyTopic);
      request.identity = identity;
      let awaited;
      try {
        awaited = await awaitReply(deps.broker, { kind: 'exchange', request }, route, {
          onPark: (cancel) => {
            if (this.closed) cancel('client-closed');
            else this.inFlight.set(frame.id, cancel);
          },
          decoder: deps.replyDecoder,
          metrics: deps.metrics,
          // A frame has always been answered 504 at a deadline the store could not be read at.
          unreadableDeadline: 'timeout',
        });
      } finally {
        this.inFlight.delete(frame.id);
        reserved = false;
      }
      if (awaited.kind === 'client-closed') return;
      if (awaited.kind === 'timeout') throw new ReplyTimeoutError(correlationId, route.topic, awaited.waitedMs);
      const reply = awaited.reply;
      this.send(replyFrame(frame.id, reply));
      deps.metrics.requests.inc({ route: routeName, status: String(reply.status) });
    } catch (err) {
      if (reserved) this.inFlight.delete(frame.id);
      const e = toReplygateError(err);
      if (e.code === 'RG_INTERNAL') deps.log.error({ err, route: routeName }, 'websocket request failed');
      this.send(errorFrame(frame.id, e));
      deps.metrics.requests.inc({ route: routeName, status: String(e.status) });
    }
  }

  /**
   * Send a frame. Past REPLYGATE_WS_MAX_BUFFERED_BYTES unsent, the socket stops reading new frames
   * until the client has taken half of it: a slow reader slows its own requests, not the replica.
   */
  private send(frame: object): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(frame), () => {
      if (this.paused && this.ws.bufferedAmount < this.deps.maxBufferedBytes / 2) {
        this.paused = false;
        this.ws.resume();
      }
    });
    if (!this.paused && this.ws.bufferedAmount > this.deps.maxBufferedBytes) {
      this.paused = true;
      this.ws.pause();
    }
  }
}
