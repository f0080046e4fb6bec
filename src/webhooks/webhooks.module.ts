import { Global, Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EVENT_OUTBOX } from '../whatsapp/event-outbox';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookOutbox } from './webhook-outbox';
import { WebhookSettingRepository } from './webhook-setting.repository';
import { WebhookSettingService } from './webhook-setting.service';
import { WebhookWorker } from './webhook-worker.service';
import { WebhooksController } from './webhooks.controller';

/**
 * Webhooks: settings, the outbox the services write to (global, as EVENT_OUTBOX, since the
 * services that report changes live in WhatsappWebModule), the delivery worker, the listing.
 */
@Global()
@Module({
  imports: [DatabaseModule],
  controllers: [WebhooksController],
  providers: [
    WebhookSettingService,
    WebhookSettingRepository,
    WebhookDeliveryRepository,
    WebhookDeliveriesService,
    WebhookOutbox,
    WebhookWorker,
    { provide: EVENT_OUTBOX, useExisting: WebhookOutbox },
  ],
  exports: [EVENT_OUTBOX],
})
export class WebhooksModule {}
