import { DynamicModule, Module } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';
import { EchoController } from './echo.controller';
import type { PeerSettings } from './peer-settings';
import { KAFKA_CLIENT, PEER_SETTINGS } from './tokens';

@Module({})
export class AppModule {
  static with(settings: PeerSettings): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ClientsModule.register([
          {
            name: KAFKA_CLIENT,
            transport: Transport.KAFKA,
            options: {
              client: { clientId: settings.instance, brokers: settings.brokers },
              consumer: { groupId: settings.group },
            },
          },
        ]),
      ],
      controllers: [EchoController],
      providers: [{ provide: PEER_SETTINGS, useValue: settings }],
    };
  }
}
