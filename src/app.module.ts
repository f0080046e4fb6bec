import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './common/api-key.guard';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { WhatsappClientFactory } from './whatsapp/client/whatsapp-client.port';
import { WhatsappWebModule } from './whatsapp/whatsapp-web.module';

@Module({})
export class AppModule {
  /** `clientFactory` replaces the provider chosen by `WA_PROVIDER` (tests, benchmarks). */
  static forRoot(config: AppConfig, clientFactory?: WhatsappClientFactory): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule, HealthModule, WhatsappWebModule.forRoot(clientFactory)],
      providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
    };
  }
}
