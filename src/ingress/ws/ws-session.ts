import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ReplygateError } from '../../errors/replygate-error';
import { toReplygateError } from '../../errors/to-replygate-error';
import type { CancelWaiter } from '../../exchange/pending-registry';
import { newCorrelationId } from '../../protocol/correlation-id';
import { runRequest, type PipelineDeps } from '../pipeline/run-request';
import { WsAnswer, type WsSessionPort } from './ws-answer';
import { errorFrame, parseRequestFrame, type WsRequestFrame } from './ws-frame';
import type { WsGatewayDeps } from './ws-gateway-deps';
import { frameBody, splitPath } from './ws-request';

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
  /** The request path as frames take it: admission with the upgrade request, sync answers only. */
  private readonly pipeline: PipelineDeps;
  private readonly port: WsSessionPort;

  constructor(
    private readonly ws: WebSocket,
    private readonly deps: WsGatewayDeps,
    /** The upgrade request: its credential authenticates every frame of this socket. */
    private readonly upgrade?: IncomingMessage,
  ) {
    const hasStages = deps.stages !== undefined && upgrade !== undefined;
    this.pipeline = {
      replyTopic: deps.replyTopic,
      matcher: deps.matcher,
      gate: {
        stages: hasStages ? (deps.stages ?? []) : [],
        blocker: deps.admissionBlocker,
        ...(deps.admissionRecovery ? { recover: deps.admissionRecovery } : {}),
        pending: () => deps.registry.size,
        maxPending: deps.maxPending,
      },
      broker: deps.broker,
      registry: deps.registry,
      metrics: deps.metrics,
      log: deps.log,
      decoder: deps.replyDecoder,
      // As frames always have been: no reply-latency histogram, and a deadline at which the store
      // could not be read answers as a timeout.
      observeLatency: false,
      unreadableDeadline: 'timeout',
    };
    this.port = {
      inFlight: this.inFlight,
      isClosed: () => this.closed,
      bufferedAmount: () => ws.bufferedAmount,
      send: (frame) => this.send(frame),
      maxBufferedBytes: deps.maxBufferedBytes,
      maxInFlight: deps.maxInFlight,
      hasStages,
    };
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
    for (const cancel of this.inFlight.values()) cancel?.cancel('client-closed');
    this.inFlight.clear();
  }

  private async onFrame(text: string): Promise<void> {
    let frame: WsRequestFrame;
    try {
      frame = parseRequestFrame(text);
    } catch (err) {
      const e = toReplygateError(err);
      const id = e.details?.['id'];
      this.send(errorFrame(typeof id === 'string' || typeof id === 'number' ? id : null, e));
      return;
    }
    const { path, query } = splitPath(frame.path);
    const upgrade = this.upgrade;
    runRequest(
      {
        transport: 'ws',
        method: frame.method,
        path,
        query,
        headers: frame.headers,
        // The upgrade request's credential authenticates every frame of this socket.
        admissionHeaders: upgrade?.headers ?? {},
        clientIp: upgrade?.socket.remoteAddress,
        fingerprintUrl: frame.path,
        readBody: (route) => Promise.resolve(frameBody(frame, route)),
      },
      new WsAnswer(this.port, frame.id),
      this.pipeline,
      newCorrelationId(this.deps.instanceId),
    );
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
