import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { WebhookSettingRepository } from './webhook-setting.repository';
import { WebhookSettingService } from './webhook-setting.service';
import { WebhooksController } from './webhooks.controller';

/** Webhook settings; sessions come from WhatsappWebModule's exports. */
@Module({
  imports: [DatabaseModule],
  controllers: [WebhooksController],
  providers: [WebhookSettingService, WebhookSettingRepository],
})
export class WebhooksModule {}
