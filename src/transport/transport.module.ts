import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { SocketWritePacer } from './socket-write-pacer';

/** Transport parts that both the Socket.IO adapter and the gateway use: one write pacer. */
@Global()
@Module({
  providers: [{ provide: SocketWritePacer, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new SocketWritePacer(config.socketWritePacingMs) }],
  exports: [SocketWritePacer],
})
export class TransportModule {}
