import { Body, Controller, Get, HttpException, Inject, OnModuleInit, Post } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import { Observable, catchError, finalize, throwError, timeout } from 'rxjs';
import { PEER_SETTINGS, KAFKA_CLIENT } from './tokens';
import type { PeerSettings } from './peer-settings';

/**
 * `POST /echo` and `POST /park` send the body with `ClientKafka.send(topic, body)` and answer with
 * the reply, as the NestJS docs show it (`subscribeToResponseOf` before `connect`, an rxjs
 * `timeout`, since the client has none of its own). `GET /pending` counts the requests waiting for
 * a reply (the bench's parked-request test reads it).
 */
@Controller()
export class EchoController implements OnModuleInit {
  private pending = 0;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly client: ClientKafka,
    @Inject(PEER_SETTINGS) private readonly settings: PeerSettings,
  ) {}

  async onModuleInit(): Promise<void> {
    this.client.subscribeToResponseOf(this.settings.requestTopic);
    this.client.subscribeToResponseOf(this.settings.parkTopic);
    await this.client.connect();
  }

  @Post('echo')
  echo(@Body() body: unknown): Observable<unknown> {
    return this.call(this.settings.requestTopic, body, 30_000);
  }

  @Post('park')
  park(@Body() body: unknown): Observable<unknown> {
    return this.call(this.settings.parkTopic, body, 600_000);
  }

  @Get('pending')
  pendingCount(): number {
    return this.pending;
  }

  private call(topic: string, body: unknown, ms: number): Observable<unknown> {
    this.pending++;
    return this.client.send(topic, body).pipe(
      timeout(ms),
      catchError((err: unknown) => throwError(() => new HttpException({ error: String(err) }, 504))),
      finalize(() => {
        this.pending--;
      }),
    );
  }
}
