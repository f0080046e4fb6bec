import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ChatEntity } from '../database/entities/chat.entity';
import { MessageEntity } from '../database/entities/message.entity';
import { SyncRunEntity } from '../database/entities/sync-run.entity';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { MessageCursor } from './storage/message-cursor';
import { jsonBatches } from './storage/json-batches';
import { isStorableChatId, lastById, MAX_CHAT_ID_BYTES, pgSafeInt, pgSafeJson, pgSafeText, pgSafeTimestamp } from './storage/pg-safe';
import { INSERT_CHAT_STUB_SQL, UPSERT_CHATS_SQL, UPSERT_MESSAGES_SQL } from './storage/upsert-sql';

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

/** The only place that reads and writes chats and messages. */
@Injectable()
export class WhatsappStorageService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Upserts every chat in multi-row batches, then awaits `onProgress` for each chat in order: that is
   * where a sync does its per-chat work, knowing that every chat row is already committed.
   */
  async saveChats(sessionId: string, chats: readonly WaChat[], onProgress?: ChatsProgress): Promise<void> {
    // A chat listed twice is one chat: stored once, reported once (the last listing wins, as in one upsert).
    const unique = lastById(chats);
    await this.upsertChats(this.dataSource.manager, sessionId, unique);
    if (!onProgress) return;
    for (let index = 0; index < unique.length; index++) await onProgress(index, unique.length, unique[index]);
  }

  /** Upserts a chat's messages atomically (one statement, or one transaction), then reports how many it holds. */
  async saveMessages(
    sessionId: string,
    chatId: string,
    messages: readonly WaMessage[],
    onProgress?: MessagesProgress,
  ): Promise<number> {
    const held = await this.writeMessages(this.prepareMessages(sessionId, chatId, messages));
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

  /** The database half of `saveMessages`: how many of the messages the chat holds once committed. */
  async writeMessages(prepared: PreparedMessages): Promise<number> {
    const { sessionId, chatId, batches } = prepared;
    if (batches.length === 0) return 0;
    // One statement is atomic on its own: no BEGIN/COMMIT round trips for the common case.
    if (batches.length === 1) return this.upsertMessages(this.dataSource.manager, sessionId, chatId, batches[0]);
    return this.dataSource.transaction(async (manager) => {
      let held = 0;
      for (const batch of batches) held += await this.upsertMessages(manager, sessionId, chatId, batch);
      return held;
    });
  }

  /** Stores one live message, with a placeholder chat row when the chat was never synced. */
  async saveLiveMessage(sessionId: string, message: WaMessage): Promise<void> {
    if (!isStorableChatId(message.chatId)) throw new Error(unstorableChatIdText(message.chatId));
    await this.dataSource.transaction(async (manager) => {
      await manager.query(INSERT_CHAT_STUB_SQL, [
        sessionId,
        pgSafeText(message.chatId),
        message.chatId.endsWith('@g.us'),
        pgSafeTimestamp(message.timestamp),
      ]);
      await this.upsertMessages(manager, sessionId, pgSafeText(message.chatId), pgSafeJson([toMessageRow(message)]));
    });
  }

  async updateMessageAck(sessionId: string, messageId: string, ack: number): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(MessageEntity)
      .set({ ack: pgSafeInt(ack), updatedAt: () => 'now()' })
      .where('session_id = :sessionId AND wa_id = :messageId AND ack <> :ack', { sessionId, messageId, ack: pgSafeInt(ack) })
      .execute();
  }

  /** Stored chats, newest activity first. */
  listChats(sessionId: string): Promise<ChatEntity[]> {
    return this.dataSource.getRepository(ChatEntity).find({
      where: { sessionId },
      order: { timestamp: { direction: 'DESC', nulls: 'LAST' }, waId: 'ASC' },
    });
  }

  async chatExists(sessionId: string, chatId: string): Promise<boolean> {
    return this.dataSource.getRepository(ChatEntity).exists({ where: { sessionId, waId: chatId } });
  }

  /** One page of a chat's messages, newest first, strictly older than `before`. */
  listMessages(sessionId: string, chatId: string, limit: number, before: MessageCursor | null): Promise<MessageEntity[]> {
    const query = this.dataSource
      .getRepository(MessageEntity)
      .createQueryBuilder('m')
      .where('m.session_id = :sessionId AND m.chat_id = :chatId', { sessionId, chatId })
      .orderBy('m.timestamp', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(limit);
    if (before) query.andWhere('(m.timestamp, m.id) < (:ts, :id)', { ts: before.timestamp, id: before.id });
    return query.getMany();
  }

  /** Removes everything stored for a session (`DELETE ...?purge=true`). */
  async purgeSession(sessionId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.delete(MessageEntity, { sessionId });
      await manager.delete(ChatEntity, { sessionId });
      await manager.delete(SyncRunEntity, { sessionId });
    });
  }

  /** Chats whose id cannot be stored are left out; the sync reports each of them as a failed chat. */
  private async upsertChats(manager: EntityManager, sessionId: string, chats: readonly WaChat[]): Promise<void> {
    const rows = lastById(chats.filter((c) => isStorableChatId(c.id)));
    for (const batch of jsonBatches(rows, toChatRow, CHAT_BATCH_SIZE)) await manager.query(UPSERT_CHATS_SQL, [sessionId, batch]);
  }

  /** One upsert statement; answers how many of its rows the chat holds (see UPSERT_MESSAGES_SQL). */
  private async upsertMessages(manager: EntityManager, sessionId: string, chatId: string, rowsJson: string): Promise<number> {
    const [{ held }] = (await manager.query(UPSERT_MESSAGES_SQL, [sessionId, chatId, rowsJson])) as [{ held: number }];
    return held;
  }
}

/** Why a chat, or a live message of it, is not stored. */
export function unstorableChatIdText(chatId: string): string {
  return `chat id is empty or longer than ${MAX_CHAT_ID_BYTES} bytes (${Buffer.byteLength(pgSafeText(chatId), 'utf8')}); not stored`;
}

/** A chat as a row of UPSERT_CHATS_SQL's JSON parameter. */
function toChatRow(c: WaChat) {
  return {
    i: c.id,
    n: c.name,
    g: c.isGroup,
    u: pgSafeInt(c.unreadCount, 0),
    ts: pgSafeTimestamp(c.timestamp),
    a: c.archived,
    p: c.pinned,
    r: c.raw,
  };
}

/** A message as a row of UPSERT_MESSAGES_SQL's JSON parameter. */
function toMessageRow(m: WaMessage) {
  return {
    i: m.id,
    f: m.fromMe,
    a: m.author,
    b: m.body,
    t: m.type,
    ts: pgSafeTimestamp(m.timestamp) ?? 0,
    m: m.hasMedia,
    k: pgSafeInt(m.ack),
    r: m.raw,
  };
}
