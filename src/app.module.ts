import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyGuard } from './transport/api-key.guard';
import { HttpDrain } from './transport/http-drain';
import { RestThrottlerGuard, rateLimitModule } from './transport/rate-limit';
import { TransportModule } from './transport/transport.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import type { LevelledTypeOrmLogger } from './database/typeorm-logger';
import { HealthModule } from './health/health.module';
import { InstancesModule } from './instances/instances.module';
import { MediaModule } from './media/media.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisModule } from './redis/redis.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { ClientFactoryOverride } from './whatsapp/client/whatsapp-client.module';
import { WhatsappWebModule } from './whatsapp/whatsapp-web.module';

/** What tests and benchmarks may put in place of the app's own parts. */
export interface AppModuleOptions {
  /** Replaces the provider chosen by `WA_PROVIDER`: a factory, or how to build one. */
  clientFactory?: ClientFactoryOverride;
  /** Replaces the app's TypeORM logger (tests record the SQL statements with one). */
  typeormLogger?: LevelledTypeOrmLogger;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), RedisModule, TransportModule, rateLimitModule(), DatabaseModule.forRoot(options.typeormLogger), HealthModule, InstancesModule, WhatsappWebModule.forRoot(options.clientFactory), MetricsModule, WebhooksModule, MediaModule],
      // In this order: requests over the limit are refused before their key is even compared.
      providers: [
        { provide: APP_GUARD, useClass: RestThrottlerGuard },
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        HttpDrain,
      ],
    };
  }
}
