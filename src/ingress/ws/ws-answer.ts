import type { RouteDefinition } from '../../config/routes-file';
import { ReplygateError } from '../../errors/replygate-error';
import type { CancelWaiter } from '../../exchange/pending-registry';
import type { DecodedReply } from '../../protocol/reply-envelope';
import type { Answer } from '../pipeline/inbound';
import { errorFrame, replyFrame } from './ws-frame';
import { assertWsAllowed } from './ws-request';

/** What a {@link WsAnswer} uses of its socket's session. */
export interface WsSessionPort {
  /** Frame id → cancel of its parked exchange (undefined until parked). */
  readonly inFlight: Map<string | number, CancelWaiter | undefined>;
  isClosed(): boolean;
  /** Reply bytes the socket has not sent yet. */
  bufferedAmount(): number;
  send(frame: object): void;
  /** REPLYGATE_WS_MAX_BUFFERED_BYTES. */
  readonly maxBufferedBytes: number;
  /** REPLYGATE_WS_MAX_IN_FLIGHT. */
  readonly maxInFlight: number;
  /** The socket has admission stages and an upgrade request to run them with. */
  readonly hasStages: boolean;
}

/**
 * How the request path answers one WebSocket frame: a reply frame or an error frame, with the
 * socket's in-flight slot taken on matching and given back when the wait ends. Frames carry no
 * headers, and a frame is always answered with its reply (no stream, gather or 202).
 */
export class WsAnswer implements Answer {
  readonly failureMessage = 'websocket request failed';
  private reserved = false;

  constructor(
    private readonly session: WsSessionPort,
    private readonly id: string | number,
  ) {}

  beforeMatch(): undefined {
    if (this.session.inFlight.has(this.id)) {
      throw new ReplygateError('RG_BAD_REQUEST', `id ${this.id} is already in flight`);
    }
    return undefined;
  }

  routed(route: RouteDefinition): void {
    const session = this.session;
    if (session.bufferedAmount() > session.maxBufferedBytes) {
      throw new ReplygateError('RG_OVERLOADED', 'Replies are not being read (REPLYGATE_WS_MAX_BUFFERED_BYTES)', {
        retriable: true,
      });
    }
    if (session.inFlight.size >= session.maxInFlight) {
      throw new ReplygateError(
        'RG_OVERLOADED',
        `Too many requests in flight on this socket (REPLYGATE_WS_MAX_IN_FLIGHT=${session.maxInFlight})`,
        { retriable: true },
      );
    }
    // The slot is taken before anything is awaited, so frames arriving meanwhile see the bound.
    session.inFlight.set(this.id, undefined);
    this.reserved = true;
    // Without stages (or an upgrade request to run them with), protected routes are refused outright.
    if (!session.hasStages) assertWsAllowed(route);
  }

  setHeader(): void {}

  appendHeader(): void {}

  onPark(cancel: CancelWaiter): void {
    if (this.session.isClosed()) cancel.cancel('client-closed');
    else this.session.inFlight.set(this.id, cancel);
  }

  waitEnded(): void {
    this.release();
  }

  reply(reply: DecodedReply): string {
    this.session.send(replyFrame(this.id, reply));
    return String(reply.status);
  }

  clientClosed(): undefined {
    return undefined;
  }

  accepted(): string {
    throw new Error('a WebSocket frame is never answered 202');
  }

  streamed(): Promise<string> {
    return Promise.reject(new Error('a WebSocket frame is never answered streamed'));
  }

  gathered(): Promise<string> {
    return Promise.reject(new Error('a WebSocket frame is never answered gathered'));
  }

  problem(err: ReplygateError): string {
    this.release();
    this.session.send(errorFrame(this.id, err));
    return String(err.status);
  }

  private release(): void {
    if (!this.reserved) return;
    this.session.inFlight.delete(this.id);
    this.reserved = false;
  }
}
