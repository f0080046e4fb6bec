import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './common/api-key.guard';
import { HttpDrain } from './common/http-drain';
import { RestThrottlerGuard, rateLimitModule } from './common/rate-limit';
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
      imports: [ConfigModule.forRoot(config), rateLimitModule(), DatabaseModule, HealthModule, WhatsappWebModule.forRoot(clientFactory)],
      // In this order: requests over the limit are refused before their key is even compared.
      providers: [
        { provide: APP_GUARD, useClass: RestThrottlerGuard },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        HttpDrain,
      ],
    };
  }
}
