import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { WsGatewayDeps } from './ws-gateway-deps';
import { WsSession } from './ws-session';
import { GATEWAY_PATHS } from '../../protocol/gateway-paths';

/** The path clients open their socket on. */
export const WS_PATH = GATEWAY_PATHS.ws;

/**
 * Request-reply over WebSocket on `/v1/ws`, attached to the gateway's HTTP server. Each text frame
 * `{ id, method, path, headers, body }` is routed like an HTTP request and answered with
 * `{ id, status, headers, body }` (or `{ id, status, error, detail }`) when its reply arrives, in
 * whatever order replies arrive.
 *
 * @example
 * const ws = new WebSocketGateway(deps);
 * ws.attach(httpServer);
 * // later: await ws.close();
 */
export class WebSocketGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<WsSession>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly deps: WsGatewayDeps) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.maxFrameBytes, clientTracking: false });
  }

  /** Sockets open now. */
  get size(): number {
    return this.sessions.size;
  }

  /** Take `/v1/ws` upgrades on `server` and start the heartbeat. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.heartbeat = setInterval(() => {
      for (const session of this.sessions) session.heartbeat();
    }, this.deps.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Close every socket (1001), terminating those that do not finish the handshake within a second. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const session of this.sessions) session.close(1001, 'replica shutting down');
    const deadline = Date.now() + 1000;
    while (this.sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const session of this.sessions) session.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      refuse(socket, 404, 'Not Found');
      return;
    }
    const blocker = this.deps.admissionBlocker();
    if (blocker !== undefined) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const session = new WsSession(ws, this.deps, req);
      this.sessions.add(session);
      ws.on('close', () => this.sessions.delete(session));
    });
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
