import { Controller, Delete, Get, Head, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../transport/error.dto';
import { ChatDto, ChatParams, ChatsQuery, DEFAULT_MESSAGE_PAGE_LIMIT, MessagePageDto, MessagesQuery } from './chats/chat.dto';
import { ChatView, MessagePage } from './chats/chat.view';
import { DeletedDto, DeleteQuery, QrDto, SessionDto, SessionParams } from './session/session.dto';
import { SessionService } from './session/session.service';
import { SessionView } from './session/session.view';
import { ChatSyncResultDto, DEFAULT_LIMIT_PER_CHAT, DEFAULT_SYNC_MODE, SyncQuery, SyncResultDto, SyncRunDto } from './sync/sync.dto';
import { ChatSyncResult, SyncResult, SyncRunView } from './sync/sync.view';
import { WhatsappQueryService } from './whatsapp-query.service';
import { WhatsappWebService } from './whatsapp-web.service';

const BAD_INPUT = { status: 400, type: ErrorDto, description: 'Invalid id or query parameter' };
const UNKNOWN = { status: 404, type: ErrorDto, description: 'Unknown session' };
const NOT_READY = { status: 409, type: ErrorDto, description: 'The session is not ready; the message names its status' };

/** The REST API of README.md ("REST API"). Each route validates its input and delegates in one call. */
@ApiTags('whatsapp-web')
@ApiSecurity('api-key')
@ApiResponse({ status: 401, type: ErrorDto, description: 'API_KEY is set and x-api-key is missing or wrong' })
@Controller('whatsapp-web')
export class WhatsappWebController {
  constructor(
    private readonly sessions: SessionService,
    private readonly sync: WhatsappWebService,
    private readonly query: WhatsappQueryService,
  ) {}

  @Post('session/:id/start')
  @ApiOperation({ summary: 'Start a session (idempotent: a running one is returned as is)' })
  @ApiResponse({ status: 201, type: SessionDto })
  @ApiResponse(BAD_INPUT)
  start(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.start(id);
  }

  @Get('sessions')
  @ApiOperation({ summary: 'List sessions' })
  @ApiResponse({ status: 200, type: [SessionDto] })
  list(): Promise<SessionView[]> {
    return this.sessions.list();
  }

  @Get('session/:id')
  @ApiOperation({ summary: 'One session' })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  get(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.get(id);
  }

  @Get('session/:id/qr')
  @ApiOperation({ summary: 'The QR to scan while the status is `qr`' })
  @ApiResponse({ status: 200, type: QrDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  @ApiResponse({ status: 409, type: ErrorDto, description: 'Not waiting for a scan' })
  qr(@Param() { id }: SessionParams): Promise<{ qr: string; dataUrl: string }> {
    return this.sessions.qr(id);
  }

  @Post('session/:id/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop the client; the login is kept' })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  stop(@Param() { id }: SessionParams): Promise<SessionView> {
    return this.sessions.stop(id);
  }

  @Delete('session/:id')
  @ApiOperation({ summary: 'Log out and forget the login; `purge=true` also deletes the stored data' })
  @ApiResponse({ status: 200, type: DeletedDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  remove(@Param() { id }: SessionParams, @Query() { purge }: DeleteQuery): Promise<DeletedDto> {
    return this.sessions.delete(id, purge ?? false);
  }

  @Post('session/:id/sync-chats')
  @HttpCode(200)
  @ApiOperation({ summary: 'Synchronize chats and messages; progress goes to the session room as `sync_chats`' })
  @ApiResponse({ status: 200, type: SyncResultDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  @ApiResponse(NOT_READY)
  @ApiResponse({ status: 502, type: ErrorDto, description: 'WhatsApp failed to list the chats' })
  @ApiResponse({ status: 503, type: ErrorDto, description: 'The run failed (for example, the database was unavailable)' })
  syncChats(@Param() { id }: SessionParams, @Query() { limitPerChat, mode }: SyncQuery): Promise<SyncResult> {
    return this.sync.syncChatsWithProgress(id, limitPerChat ?? DEFAULT_LIMIT_PER_CHAT, { mode: mode ?? DEFAULT_SYNC_MODE });
  }

  @Post('session/:id/chats/:chatId/sync')
  @HttpCode(200)
  @ApiOperation({ summary: 'Synchronize one chat; progress goes to the session room as `sync_chats` with nChats 1' })
  @ApiResponse({ status: 200, type: ChatSyncResultDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse({ status: 404, type: ErrorDto, description: 'Unknown session, or a chat WhatsApp does not know' })
  @ApiResponse(NOT_READY)
  @ApiResponse({ status: 502, type: ErrorDto, description: 'WhatsApp failed to list the chats or to give this chat\'s messages' })
  @ApiResponse({ status: 503, type: ErrorDto, description: 'The run failed (for example, the database was unavailable)' })
  syncChat(@Param() { id, chatId }: ChatParams, @Query() { limitPerChat, mode }: SyncQuery): Promise<ChatSyncResult> {
    return this.sync.syncChat(id, chatId, mode ?? DEFAULT_SYNC_MODE, limitPerChat ?? DEFAULT_LIMIT_PER_CHAT);
  }

  @Get('session/:id/sync-chats/latest')
  @ApiOperation({ summary: 'The last synchronization run, running or finished' })
  @ApiResponse({ status: 200, type: SyncRunDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse({ status: 404, type: ErrorDto, description: 'Unknown session, or no run yet' })
  latestSync(@Param() { id }: SessionParams): Promise<SyncRunView> {
    return this.query.latestRun(id);
  }

  /**
   * Declared before `GET chats`, or Express would answer HEAD with the GET handler, which syncs: a
   * HEAD (a link checker, a prefetch, another site's no-cors fetch) must change nothing. It answers
   * what `GET chats?sync=false` would, whatever `sync` says; the same validation applies.
   */
  @Head('session/:id/chats')
  @ApiOperation({ summary: 'The headers of `GET chats?sync=false`: never synchronizes, whatever `sync` says' })
  @ApiResponse({ status: 200, description: 'No body; the headers of the stored chats list' })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  chatsHead(@Param() { id }: SessionParams, @Query() _query: ChatsQuery): Promise<ChatView[]> {
    return this.query.storedChats(id);
  }

  @Get('session/:id/chats')
  @ApiOperation({ summary: 'Synchronize (unless `sync=false`), then list the stored chats, newest first' })
  @ApiResponse({ status: 200, type: [ChatDto] })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  @ApiResponse(NOT_READY)
  chats(@Param() { id }: SessionParams, @Query() { sync, limitPerChat, mode }: ChatsQuery): Promise<ChatView[]> {
    return sync === false ? this.query.storedChats(id) : this.sync.getChats(id, limitPerChat ?? DEFAULT_LIMIT_PER_CHAT, mode ?? DEFAULT_SYNC_MODE);
  }

  @Get('session/:id/chats/:chatId/messages')
  @ApiOperation({ summary: 'Stored messages of a chat, newest first, keyset-paginated' })
  @ApiResponse({ status: 200, type: MessagePageDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse({ status: 404, type: ErrorDto, description: 'Unknown session or chat' })
  messages(@Param() { id, chatId }: ChatParams, @Query() { limit, before }: MessagesQuery): Promise<MessagePage> {
    return this.query.messagesPage(id, chatId, limit ?? DEFAULT_MESSAGE_PAGE_LIMIT, before);
  }
}
