import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ChatEntity } from '../database/entities/chat.entity';
import { MessageEntity } from '../database/entities/message.entity';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { ChatRepository, NewestStored, toChatRow } from './storage/chat.repository';
import { MessageRepository, MessagesWritten, toMessageRow } from './storage/message.repository';
import { MessageCursor } from './storage/message-cursor';
import { jsonBatches } from './storage/json-batches';
import { isStorableChatId, lastById, MAX_CHAT_ID_BYTES, pgSafeInt, pgSafeJson, pgSafeText, pgSafeTimestamp } from './storage/pg-safe';
import { SyncRunRepository } from './sync/sync-run.repository';

/** Called after each chat is committed; `currentIndex` is the chat's 0-based position in `chats`. */
export type ChatsProgress = (currentIndex: number, total: number, chat: WaChat) => void | Promise<void>;
/** Called once the whole batch is committed, with the number of messages it stored. */
export type MessagesProgress = (messagesSaved: number) => void | Promise<void>;

/** The statements that store one chat's messages, ready to send. */
export interface PreparedMessages {
  sessionId: string;
  chatId: string;
  /** JSON arrays of rows, one per statement. */
  batches: string[];
}

/** Rows per upsert statement at most (huge rows end a batch earlier: see BATCH_MAX_JSON_CHARS). */
export const CHAT_BATCH_SIZE = 500;
export const MESSAGE_BATCH_SIZE = 2000;

/**
 * The one way in to stored chats and messages: what a row may hold, batches, and which writes share
 * a transaction. The SQL is the repositories' (storage/chat.repository.ts, message.repository.ts).
 */
@Injectable()
export class WhatsappStorageService {
  constructor(
    /** For transactions only: the statements are the repositories'. */
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly chatRows: ChatRepository,
    private readonly messageRows: MessageRepository,
    private readonly runRows: SyncRunRepository,
  ) {}

  /**
   * Upserts every chat in multi-row batches, then awaits `onProgress` for each chat in order: that is
   * where a sync does its per-chat work, knowing that every chat row is already committed.
   */
  async saveChats(sessionId: string, chats: readonly WaChat[], onProgress?: ChatsProgress): Promise<void> {
    // A chat listed twice is one chat: stored once, reported once (the last listing wins, as in one upsert).
    const unique = lastById(chats);
    await this.upsertChats(sessionId, unique);
    if (!onProgress) return;
    for (let index = 0; index < unique.length; index++) await onProgress(index, unique.length, unique[index]);
  }

  /**
   * What an incremental run does instead of `saveChats`: the same upserts (one statement per batch),
   * each also reading its chats' newest stored messages. Answers them by chat id (`null`: none
   * stored), for the chats it stored: the unique listed chats whose ids can be stored.
   */
  async saveChatsReadingNewest(sessionId: string, chats: readonly WaChat[]): Promise<Map<string, NewestStored>> {
    const newest = new Map<string, NewestStored>();
    for (const batch of jsonBatches(storableChats(chats), toChatRow, CHAT_BATCH_SIZE)) {
      for (const [chatId, stored] of await this.chatRows.upsertReadingNewest(sessionId, batch)) newest.set(chatId, stored);
    }
    return newest;
  }

  /** Upserts a chat's messages atomically (one statement, or one transaction), then reports how many it holds. */
  async saveMessages(
    sessionId: string,
    chatId: string,
    messages: readonly WaMessage[],
    onProgress?: MessagesProgress,
  ): Promise<number> {
    const { held } = await this.writeMessages(this.prepareMessages(sessionId, chatId, messages));
    await onProgress?.(held);
    return held;
  }

  /**
   * The CPU half of `saveMessages`: the statements' JSON, built without touching the database, so
   * that a sync can prepare chats ahead while it writes them one after another.
   */
  prepareMessages(sessionId: string, chatId: string, messages: readonly WaMessage[]): PreparedMessages {
    return { sessionId, chatId: pgSafeText(chatId), batches: jsonBatches(lastById(messages), toMessageRow, MESSAGE_BATCH_SIZE) };
  }

  /** The database half of `saveMessages`: how many of the messages the chat holds once committed, and how many are new. */
  async writeMessages(prepared: PreparedMessages): Promise<MessagesWritten> {
    const { sessionId, chatId, batches } = prepared;
    if (batches.length === 0) return { held: 0, inserted: 0 };
    // One statement is atomic on its own: no BEGIN/COMMIT round trips for the common case.
    if (batches.length === 1) return this.messageRows.upsert(sessionId, chatId, batches[0]);
    return this.dataSource.transaction(async (manager) => {
      const total = { held: 0, inserted: 0 };
      for (const batch of batches) {
        const written = await this.messageRows.upsert(sessionId, chatId, batch, manager);
        total.held += written.held;
        total.inserted += written.inserted;
      }
      return total;
    });
  }

  /** Stores one live message, with a placeholder chat row when the chat was never synced. */
  async saveLiveMessage(sessionId: string, message: WaMessage): Promise<void> {
    if (!isStorableChatId(message.chatId)) throw new Error(unstorableChatIdText(message.chatId));
    await this.dataSource.transaction(async (manager) => {
      await this.chatRows.insertStub(sessionId, pgSafeText(message.chatId), message.chatId.endsWith('@g.us'), pgSafeTimestamp(message.timestamp), manager);
      await this.messageRows.upsert(sessionId, pgSafeText(message.chatId), pgSafeJson([toMessageRow(message)]), manager);
    });
  }

  async updateMessageAck(sessionId: string, messageId: string, ack: number): Promise<void> {
    await this.messageRows.updateAck(sessionId, messageId, pgSafeInt(ack));
  }

  /** Stored chats, newest activity first. */
  listChats(sessionId: string): Promise<ChatEntity[]> {
    return this.chatRows.list(sessionId);
  }

  chatExists(sessionId: string, chatId: string): Promise<boolean> {
    return this.chatRows.exists(sessionId, chatId);
  }

  /** One page of a chat's messages, newest first, strictly older than `before`. */
  listMessages(sessionId: string, chatId: string, limit: number, before: MessageCursor | null): Promise<MessageEntity[]> {
    return this.messageRows.page(sessionId, chatId, limit, before);
  }

  /** Removes everything stored for a session (`DELETE ...?purge=true`). */
  async purgeSession(sessionId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.messageRows.deleteSession(sessionId, manager);
      await this.chatRows.deleteSession(sessionId, manager);
      await this.runRows.deleteSession(sessionId, manager);
    });
  }

  /** Chats whose id cannot be stored are left out; the sync reports each of them as a failed chat. */
  private async upsertChats(sessionId: string, chats: readonly WaChat[]): Promise<void> {
    for (const batch of jsonBatches(storableChats(chats), toChatRow, CHAT_BATCH_SIZE)) await this.chatRows.upsert(sessionId, batch);
  }
}

/** The chats a chat upsert stores: ids that can be stored, each once (the last listing wins). */
function storableChats(chats: readonly WaChat[]): WaChat[] {
  return lastById(chats.filter((c) => isStorableChatId(c.id)));
}

/** Why a chat, or a live message of it, is not stored. */
export function unstorableChatIdText(chatId: string): string {
  return `chat id is empty or longer than ${MAX_CHAT_ID_BYTES} bytes (${Buffer.byteLength(pgSafeText(chatId), 'utf8')}); not stored`;
}
