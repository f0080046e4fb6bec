import { Global, Module } from '@nestjs/common';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** `GET /metrics`; global, so that other modules add their metrics to its registry. Its service reads the publisher, sessions and runs that WhatsappWebModule exports. */
@Global()
@Module({ controllers: [MetricsController], providers: [MetricsService, MetricsAccessGuard], exports: [MetricsService] })
export class MetricsModule {}
