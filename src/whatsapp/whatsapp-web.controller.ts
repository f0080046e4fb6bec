import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ChatParams, ChatsQuery, DeleteQuery, MessagesQuery, SessionParams, SyncQuery } from './dto/requests.dto';
import { ChatView } from './mappers';
import { SessionService, SessionView } from './session/session.service';
import { SyncResult } from './sync/sync-result';
import { MessagePage, SyncRunView, WhatsappQueryService } from './whatsapp-query.service';
import { DEFAULT_LIMIT_PER_CHAT, WhatsappWebService } from './whatsapp-web.service';

/** The REST contract of CONTRACT.md. Each route validates its input and delegates in one call. */
@Controller('whatsapp-web')
export class WhatsappWebController {
  constructor(
    private readonly sessions: SessionService,
    private readonly sync: WhatsappWebService,
    private readonly query: WhatsappQueryService,
  ) {}

  @Post('session/:id/start')
  start(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.start(id);
  }

  @Get('sessions')
  list(): Promise<SessionView[]> {
    return this.sessions.list();
  }

  @Get('session/:id')
  get(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.get(id);
  }

  @Get('session/:id/qr')
  qr(@Param() { id }: SessionParams): Promise<{ qr: string; dataUrl: string }> {
    return this.sessions.qr(id);
  }

  @Post('session/:id/stop')
  @HttpCode(200)
  stop(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.stop(id);
  }

  @Delete('session/:id')
  remove(@Param() { id }: SessionParams, @Query() { purge }: DeleteQuery): Promise<{ sessionId: string; deleted: true; purged: boolean }> {
    return this.sessions.delete(id, purge ?? false);
  }

  @Post('session/:id/sync-chats')
  @HttpCode(200)
  syncChats(@Param() { id }: SessionParams, @Query() { limitPerChat }: SyncQuery): Promise<SyncResult> {
    return this.sync.syncChatsWithProgress(id, limitPerChat ?? DEFAULT_LIMIT_PER_CHAT);
  }

  @Get('session/:id/sync-chats/latest')
  latestSync(@Param() { id }: SessionParams): Promise<SyncRunView> {
    return this.query.latestRun(id);
  }

  @Get('session/:id/chats')
  chats(@Param() { id }: SessionParams, @Query() { sync, limitPerChat }: ChatsQuery): Promise<ChatView[]> {
    return sync === false ? this.query.storedChats(id) : this.sync.getChats(id, limitPerChat ?? DEFAULT_LIMIT_PER_CHAT);
  }

  @Get('session/:id/chats/:chatId/messages')
  messages(@Param() { id, chatId }: ChatParams, @Query() { limit, before }: MessagesQuery): Promise<MessagePage> {
    return this.query.messagesPage(id, chatId, limit ?? 50, before);
  }
}
