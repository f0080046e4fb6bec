import { HttpException, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { errorText } from '../../common/error-text';
import { EventPublisher } from '../event-publisher';
import { WhatsappWebService } from '../whatsapp-web.service';

/**
 * Automatic catch-up (`SYNC_ON_READY`): each transition of a session to `ready` (a login, a start
 * with a kept login, the restore at boot, a restart after a disconnect) starts a run of the
 * configured mode, recorded with `trigger: "ready"`, unless one is running (then that one is
 * joined). It hangs off the publisher, as the gateway does, so no session code knows about it.
 */
@Injectable()
export class SyncOnReadyService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(SyncOnReadyService.name);
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly publisher: EventPublisher,
    private readonly sync: WhatsappWebService,
  ) {}

  onModuleInit(): void {
    const { syncOnReady: mode, syncOnReadyLimit: limitPerChat } = this.config;
    if (mode === 'off') return;
    this.unsubscribe = this.publisher.subscribe(({ sessionId, event, payload }) => {
      if (event !== 'session_status' || payload.status !== 'ready') return;
      // Started synchronously, in the same turn as the status change: a trigger that arrives after
      // it joins this run instead of starting one recorded as `api`.
      this.sync.syncChatsWithProgress(sessionId, limitPerChat, { mode, trigger: 'ready' }).then(
        (result) => this.logger.log(`automatic ${mode} sync done: ${result.messagesInserted} new messages`, { sessionId, syncId: result.syncId }),
        (error: unknown) => this.logFailure(sessionId, error),
      );
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /**
   * The run itself logged and recorded how it failed (what it stored is whole chats only); a run that
   * could not start (the session left `ready` at once, the service is stopping) is said here.
   */
  private logFailure(sessionId: string, error: unknown): void {
    const text = error instanceof HttpException ? error.message : errorText(error);
    this.logger.warn(`automatic ${this.config.syncOnReady} sync did not complete: ${text}`, { sessionId });
  }
}
