import { Module } from '@nestjs/common';
import { MetricsAccessGuard } from './metrics-access.guard';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/** `GET /metrics`; its service reads the publisher, sessions and runs that WhatsappWebModule exports. */
@Module({ controllers: [MetricsController], providers: [MetricsService, MetricsAccessGuard] })
export class MetricsModule {}
