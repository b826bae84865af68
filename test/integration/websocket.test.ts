import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { hashApiKey } from '../../src/admission/auth/api-key-store';
import type { Responder } from '../../src/responder/responder-options';
import type { ChildReplica } from '../support/processes';
import { useTestStack, type TestStack } from '../support/test-stack';
import { unique } from '../support/unique';
import { waitFor } from '../support/wait-for';
import {
  createTopics,
  gatewayEnv,
  uniqueGatewayNames,
  writeRoutes,
  startEcho,
  startReplicas,
} from '../support/gateway-fixture';

type Frame = Record<string, unknown> & { id: string | number | null; status: number };

/** A test client: collects every frame the gateway sends. */
async function connect(
  port: number,
  options: { autoPong?: boolean; headers?: Record<string, string> } = {},
): Promise<{ ws: WebSocket; frames: Frame[]; pings: () => number; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, options);
  const frames: Frame[] = [];
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString('utf8')) as Frame));
  // Counted from the start: a ping (or a close) can come before the caller gets the socket.
  let pings = 0;
  ws.on('ping', () => pings++);
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, pings: () => pings, closed };
}

/**
 * Request-reply over WebSocket: sockets on two HTTP replicas, replies stored by a separate relay
 * process and pushed to whichever replica's socket asked.
 */
describe('integration: WebSocket /v1/ws across replicas', function () {
  this.timeout(120_000);
  let stack: TestStack;
  const echoTopic = unique('ws.echo');
  const replicas: ChildReplica[] = [];
  const sockets: WebSocket[] = [];
  let echo: Responder;
  const apiKey = `rgk_${randomBytes(32).toString('base64url')}`;
  let env: Record<string, string>;

  before(async function () {
    stack = await useTestStack();
    const names = uniqueGatewayNames('ws');
    await createTopics(stack, [echoTopic, names.replyTopic]);
    const routes = writeRoutes(`
routes:
  - { name: echo, method: POST, path: /echo/:id, topic: ${echoTopic}, key: params.id, timeoutMs: 10000 }
  - { name: fast, method: GET, path: /fast/:id, topic: ${echoTopic}, timeoutMs: 300 }
  - { name: limited, method: GET, path: /limited, topic: ${echoTopic}, rateLimit: { points: 1, durationSec: 60 } }
  - { name: private, method: GET, path: /private/:id, topic: ${echoTopic}, auth: apiKey, timeoutMs: 10000 }
`);
    const keysFile = join(mkdtempSync(join(tmpdir(), 'replygate-ws-keys-')), 'api-keys.yaml');
    writeFileSync(
      keysFile,
      `keys:\n  - { id: ws-client, hash: ${hashApiKey(apiKey)}, subject: socket-user, scopes: [] }\n`,
    );
    env = gatewayEnv(stack, names, {
      REPLYGATE_ROUTES: routes,
      REPLYGATE_API_KEYS_FILE: keysFile,
      REPLYGATE_WS_ENABLED: 'true',
      REPLYGATE_WS_MAX_IN_FLIGHT: '3',
      REPLYGATE_WS_HEARTBEAT_MS: '300',
    });
    replicas.push(...(await startReplicas(env, ['http', 'http', 'relay'])));
    echo = await startEcho(stack, echoTopic);
  });

  after(async function () {
    for (const ws of sockets) ws.terminate();
    await echo?.stop();
    await Promise.allSettled(replicas.map((r) => r.stop()));
  });

  it('answers each frame with its reply, by id, on sockets of two replicas', async function () {
    const clients = await Promise.all([connect(replicas[0]!.port), connect(replicas[1]!.port)]);
    sockets.push(...clients.map((c) => c.ws));
    clients.forEach(({ ws }, r) => {
      // Answers are matched by id, whatever order the service replies in.
      for (const [i, delay] of [400, 0, 150].entries()) {
        ws.send(
          JSON.stringify({
            id: `r${r}-${i}`,
            method: 'POST',
            path: `/echo/${r}-${i}?delayMs=${delay}`,
            headers: { 'x-request-id': `req-${r}-${i}` },
            body: { n: i, replica: r },
          }),
        );
      }
    });
    for (const [r, { frames }] of clients.entries()) {
      await waitFor(() => frames.length >= 3, 20_000, `three replies on replica ${r}`);
      expect(frames.map((f) => f.id)).to.have.members([`r${r}-0`, `r${r}-1`, `r${r}-2`]);
      for (const frame of frames) {
        expect(frame.status).to.equal(200);
        const body = frame['body'] as { body: { n: number; replica: number }; params: { id: string } };
        const i = Number(String(frame.id).split('-')[1]);
        expect(body.body).to.deep.equal({ n: i, replica: r });
        expect(body.params.id).to.equal(`${r}-${i}`);
      }
    }
  });

  it('answers errors as { id, status, error, detail } frames', async function () {
    const { ws, frames } = await connect(replicas[1]!.port);
    sockets.push(ws);
    ws.send('not json');
    ws.send(JSON.stringify({ id: 'nf', method: 'GET', path: '/nowhere', headers: {} }));
    ws.send(JSON.stringify({ id: 'bad', method: 'GET', path: 'relative', headers: {} }));
    ws.send(JSON.stringify({ id: 'lim', method: 'GET', path: '/limited', headers: {} }));
    ws.send(JSON.stringify({ id: 'lim2', method: 'GET', path: '/limited', headers: {} }));
    ws.send(JSON.stringify({ id: 'anon', method: 'GET', path: '/private/x', headers: {} }));
    // Within REPLYGATE_WS_MAX_IN_FLIGHT=3: the last one waits until the three above are answered.
    await waitFor(() => frames.length >= 6, 10_000, 'six frames');
    ws.send(JSON.stringify({ id: 'slow', method: 'GET', path: '/fast/x?delayMs=1500', headers: {} }));
    await waitFor(() => frames.length >= 7, 10_000, 'seven frames');
    const byId = new Map(frames.map((f) => [f.id, f]));
    expect(byId.get(null)).to.include({ status: 400, error: 'RG_BAD_REQUEST' });
    expect(byId.get('nf')).to.include({ status: 404, error: 'RG_ROUTE_NOT_FOUND' });
    expect(byId.get('bad')).to.include({ status: 400, error: 'RG_BAD_REQUEST' });
    // The HTTP stages run per frame: the route's rate limit (1 per minute) and authentication hold.
    expect([byId.get('lim')!.status, byId.get('lim2')!.status].sort()).to.deep.equal([200, 429]);
    expect(byId.get('anon')).to.include({ status: 401, error: 'RG_UNAUTHENTICATED' });
    expect(byId.get('slow')).to.include({ status: 504, error: 'RG_REPLY_TIMEOUT' });
    expect(byId.get('nf')!['detail']).to.be.a('string');
  });

  it("authenticates frames with the socket's upgrade credential", async function () {
    const { ws, frames } = await connect(replicas[0]!.port, { headers: { 'x-api-key': apiKey } });
    sockets.push(ws);
    ws.send(JSON.stringify({ id: 'mine', method: 'GET', path: '/private/p1', headers: {} }));
    await waitFor(() => frames.length >= 1, 10_000, 'the reply frame');
    expect(frames[0]).to.include({ id: 'mine', status: 200 });
  });

  it('bounds the requests in flight per socket with a 503 frame', async function () {
    const { ws, frames } = await connect(replicas[0]!.port);
    sockets.push(ws);
    for (let i = 0; i < 4; i++) {
      ws.send(JSON.stringify({ id: i, method: 'POST', path: `/echo/b${i}?delayMs=800`, headers: {}, body: {} }));
    }
    await waitFor(() => frames.length >= 4, 15_000, 'four answers');
    const overloaded = frames.filter((f) => f.status === 503);
    expect(overloaded).to.have.length(1);
    expect(overloaded[0]).to.include({ id: 3, error: 'RG_OVERLOADED' });
    expect(frames.filter((f) => f.status === 200)).to.have.length(3);
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async function () {
    const [silent, control] = await Promise.all([
      connect(replicas[1]!.port, { autoPong: false }),
      connect(replicas[1]!.port, { autoPong: true }),
    ]);
    sockets.push(silent.ws, control.ws);
    let controlClosed = false;
    void control.closed.then(() => (controlClosed = true));
    const code = await Promise.race([
      silent.closed,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000)),
    ]);
    // Terminated (the TCP connection cut, no close frame): 1006 on the client, after it had been pinged.
    expect(code, 'close code of the silent socket').to.equal(1006);
    const silentPings = silent.pings();
    expect(silentPings).to.be.at.least(1);
    // The socket that answers the same pings (every 300 ms) stays open through a few more rounds.
    await waitFor(() => control.pings() >= silentPings + 3, 10_000, 'three more pings on the control socket');
    expect(controlClosed, 'the control socket was closed').to.equal(false);
    expect(control.ws.readyState).to.equal(WebSocket.OPEN);
  });

  it('closes its sockets with 1001 when the replica shuts down', async function () {
    const [leaving] = await startReplicas(env, ['http']);
    try {
      const { ws } = await connect(leaving!.port);
      sockets.push(ws);
      const closed = new Promise<{ code: number; reason: string }>((resolve) =>
        ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })),
      );
      const exitCode = leaving!.stop();
      expect(await closed).to.deep.equal({ code: 1001, reason: 'replica shutting down' });
      expect(await exitCode).to.equal(0);
    } finally {
      await leaving!.kill();
    }
  });

  it('refuses upgrades on other paths', async function () {
    const ws = new WebSocket(`ws://127.0.0.1:${replicas[0]!.port}/v1/other`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    expect(status).to.equal(404);
  });
});
