import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { MediaQueue } from '../media/media-queue';
import { ChatView, MessagePage, messageRowToView, reactionsByMessage, toChatView } from './chats/chat.view';
import { SessionService } from './session/session.service';
import { decodeCursor, encodeCursor } from './storage/message-cursor';
import { SyncRunRepository } from './sync/sync-run.repository';
import { SyncTracker } from './sync/sync-tracker';
import { SyncRunView, syncRunRowToView } from './sync/sync.view';
import { WhatsappStorageService } from './whatsapp-storage.service';

/** What clients read back: stored chats, pages of messages, the latest sync run. */
@Injectable()
export class WhatsappQueryService {
  constructor(
    private readonly sessions: SessionService,
    private readonly storage: WhatsappStorageService,
    private readonly runs: SyncRunRepository,
    private readonly tracker: SyncTracker,
    private readonly media: MediaQueue,
  ) {}

  async storedChats(sessionId: string): Promise<ChatView[]> {
    await this.sessions.assertKnown(sessionId);
    return (await this.storage.listChats(sessionId)).map(toChatView);
  }

  /** Newest first; `before` is the `nextCursor` of the previous page. */
  async messagesPage(sessionId: string, chatId: string, limit: number, before: string | undefined): Promise<MessagePage> {
    const cursor = before === undefined ? null : decodeCursor(before);
    if (before !== undefined && cursor === null) {
      throw new BadRequestException('before must be a nextCursor returned by a previous page');
    }
    await this.sessions.assertKnown(sessionId);
    if (!(await this.storage.chatExists(sessionId, chatId))) {
      throw new NotFoundException(`Chat ${chatId} not found in session ${sessionId}`);
    }
    // One extra row tells whether another page exists without a count query.
    const rows = await this.storage.listMessages(sessionId, chatId, limit + 1, cursor);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const reactions = reactionsByMessage(await this.storage.reactionsOf(sessionId, page.map((row) => row.waId)));
    const media = await this.media.viewsOf(sessionId, page.filter((row) => row.hasMedia).map((row) => row.waId));
    return {
      messages: page.map((row) => messageRowToView(row, reactions, media)),
      nextCursor: rows.length > limit && last ? encodeCursor({ timestamp: last.timestamp, id: last.id }) : null,
    };
  }

  /** The latest row; when it is a run of this process, the run itself, fresher than its row. */
  async latestRun(sessionId: string): Promise<SyncRunView> {
    await this.sessions.assertKnown(sessionId);
    const row = await this.runs.latest(sessionId);
    if (!row) throw new NotFoundException(`No synchronization has run for session ${sessionId}`);
    const run = this.tracker.latest(sessionId);
    return run?.syncId === row.id ? run.view() : syncRunRowToView(row);
  }
}
