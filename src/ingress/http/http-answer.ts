import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteDefinition } from '../../config/routes-file';
import type { ReplygateError } from '../../errors/replygate-error';
import type { GatherRegistry } from '../../exchange/gather-registry';
import type { CancelWaiter } from '../../exchange/pending-registry';
import type { RequestBroker } from '../../exchange/request-broker';
import type { StoredReplyDecoder } from '../../exchange/stored-reply-decoder';
import type { StreamRegistry } from '../../exchange/stream-registry';
import type { RequestObservation } from '../../observability/request-observer';
import type { OutgoingRequest } from '../../protocol/outgoing-request';
import type { DecodedReply } from '../../protocol/reply-envelope';
import { answerCorsPreflight } from '../../admission/cors-stage';
import type { RouteMatcher } from '../../routing/route-matcher';
import type { Answer } from '../pipeline/inbound';
import { sendAccepted } from './accepted-response';
import { abandonOnClose, correlationIdOf } from './gateway-response';
import { answerGathered } from './gather-response';
import { sendProblem } from './problem-response';
import { applyReplyHeaders } from './reply-headers-writer';
import { answerStreamed } from './stream-response';

/** What an {@link HttpAnswer} writes with. */
export interface HttpAnswerDeps {
  broker: RequestBroker;
  decoder: StoredReplyDecoder;
  gathers?: GatherRegistry | undefined;
  streams?: StreamRegistry | undefined;
}

/** How the request path answers over HTTP: status, headers and body on node's response. */
export class HttpAnswer implements Answer {
  readonly failureMessage = 'request failed';

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    /** The request's path (what routes match on). */
    private readonly path: string,
    private readonly deps: HttpAnswerDeps,
    private readonly observation: RequestObservation | undefined,
  ) {}

  beforeMatch(matcher: RouteMatcher): RouteDefinition | undefined {
    return answerCorsPreflight(this.req, this.res, this.path, matcher);
  }

  routed(route: RouteDefinition): void {
    this.observation?.setRoute(route.name, route.topic);
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.res.appendHeader(name, value);
  }

  onPark(cancel: CancelWaiter): void {
    abandonOnClose(this.res, cancel);
  }

  waitEnded(): void {}

  reply(reply: DecodedReply): string {
    const res = this.res;
    res.statusCode = reply.status;
    applyReplyHeaders(res, reply);
    this.observation?.replyTrace(reply.traceparent);
    res.setHeader('content-type', reply.contentType);
    res.end(reply.body);
    return String(reply.status);
  }

  clientClosed(): string {
    return '499';
  }

  accepted(replyId: string, token: string, preferenceApplied: boolean): string {
    sendAccepted(this.res, replyId, token, preferenceApplied);
    return '202';
  }

  async streamed(request: OutgoingRequest, route: RouteDefinition): Promise<string> {
    const { streams, broker, decoder } = this.deps;
    if (streams === undefined) throw new Error('streamed answer without a stream registry');
    await answerStreamed(this.res, broker, streams, request, route, decoder);
    return String(this.res.statusCode);
  }

  async gathered(request: OutgoingRequest, route: RouteDefinition & { gather: { count: number } }): Promise<string> {
    const { gathers, broker, decoder } = this.deps;
    if (gathers === undefined) throw new Error('gathered answer without a gather registry');
    await answerGathered(this.res, broker, gathers, request, route, decoder);
    return String(this.res.statusCode);
  }

  problem(err: ReplygateError, correlationId: string): string {
    // An idempotent replay answers under the first attempt's id.
    sendProblem(this.res, err, correlationIdOf(this.res) ?? correlationId);
    return String(err.status);
  }
}
