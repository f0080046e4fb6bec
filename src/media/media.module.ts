import { Global, Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { MediaController } from './media.controller';
import { MediaDownloadsService } from './media-downloads.service';
import { MediaQueue } from './media-queue';
import { MediaRepository } from './media.repository';
import { MediaService } from './media.service';
import { MediaWakeup } from './media-wakeup';
import { MediaWorker } from './media-worker.service';
import { mediaStoreProvider } from './stores/media-store.provider';

/**
 * Media: the store (MEDIA_STORE), the download queue and its workers, the route. Global, so that the
 * message storage (WhatsappWebModule) queues downloads and reads each message's media through
 * `MediaQueue` without importing, and so duplicating, this module.
 */
@Global()
@Module({
  imports: [DatabaseModule],
  controllers: [MediaController],
  providers: [mediaStoreProvider, MediaRepository, MediaWakeup, MediaQueue, MediaDownloadsService, MediaWorker, MediaService],
  exports: [MediaQueue],
})
export class MediaModule {}
