import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { ClientKafka } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import { AppModule } from './app.module';
import { peerSettings } from './peer-settings';
import { KAFKA_CLIENT } from './tokens';

/**
 * Start the peer on 127.0.0.1:$PORT (0: any) and print `{"event":"ready","port":N}` once one
 * request has made the round trip (ClientKafka's reply consumer is assigned only some time after
 * `connect()` resolves; requests sent before would fail).
 */
async function main(): Promise<void> {
  const settings = peerSettings();
  const app = await NestFactory.create(AppModule.with(settings), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
  const client = app.get<ClientKafka>(KAFKA_CLIENT);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await firstValueFrom(client.send(settings.requestTopic, { probe: true }).pipe(timeout(5_000)));
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ event: 'ready', port })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`nest peer failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
