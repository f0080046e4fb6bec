import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ClientFactoryOverride, WhatsappClientModule } from './client/whatsapp-client.module';
import { EventPublisher } from './event-publisher';
import { SessionSnapshotService } from './session/session-snapshot.service';
import { SessionRegistry } from './session/session-registry';
import { SessionRepository } from './session/session.repository';
import { SessionService } from './session/session.service';
import { ChatRepository } from './storage/chat.repository';
import { MessageRepository } from './storage/message.repository';
import { MessageChangeRepository } from './storage/message-change.repository';
import { SyncOnReadyService } from './sync/sync-on-ready.service';
import { SyncRunRepository } from './sync/sync-run.repository';
import { SyncTracker } from './sync/sync-tracker';
import { WhatsappQueryService } from './whatsapp-query.service';
import { WhatsappStorageService } from './whatsapp-storage.service';
import { WhatsappWebController } from './whatsapp-web.controller';
import { WhatsappWebGateway } from './whatsapp-web.gateway';
import { WhatsappWebService } from './whatsapp-web.service';

@Module({
  imports: [DatabaseModule],
  controllers: [WhatsappWebController],
  providers: [
    EventPublisher,
    WhatsappWebGateway,
    SessionSnapshotService,
    WhatsappWebService,
    WhatsappQueryService,
    WhatsappStorageService,
    SessionService,
    SessionRegistry,
    SessionRepository,
    SyncRunRepository,
    ChatRepository,
    MessageRepository,
    MessageChangeRepository,
    SyncTracker,
    SyncOnReadyService,
  ],
})
export class WhatsappWebModule {
  /**
   * Global, so that modules beside it (metrics, webhooks, media) subscribe to the one publisher
   * and read the one registry of sessions and runs without importing, and so duplicating, this one.
   */
  static forRoot(clientFactory?: ClientFactoryOverride): DynamicModule {
    return {
      module: WhatsappWebModule,
      global: true,
      imports: [WhatsappClientModule.forRoot(clientFactory)],
      exports: [EventPublisher, SessionService, SyncTracker, SessionRegistry, WhatsappStorageService],
    };
  }
}
