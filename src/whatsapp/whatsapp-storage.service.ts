import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ChatEntity } from '../database/entities/chat.entity';
import { MessageEntity } from '../database/entities/message.entity';
import { SyncRunEntity } from '../database/entities/sync-run.entity';
import { WaChat, WaMessage } from './client/whatsapp.types';
import { MessageCursor } from './storage/message-cursor';
import { lastById, pgSafeJson, pgSafeNullableText, pgSafeText, pgSafeTimestamp } from './storage/pg-safe';
import { INSERT_CHAT_STUB_SQL, UPSERT_CHATS_SQL, UPSERT_MESSAGES_SQL } from './storage/upsert-sql';

/** Called after each chat is committed; `currentIndex` is the chat's 0-based position in `chats`. */
export type ChatsProgress = (currentIndex: number, total: number, chat: WaChat) => void | Promise<void>;
/** Called once the whole batch is committed, with the number of messages it stored. */
export type MessagesProgress = (messagesSaved: number) => void | Promise<void>;

/** Rows per upsert statement. Arrays travel as one parameter each, so this bounds statement size only. */
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
    for (let start = 0; start < chats.length; start += CHAT_BATCH_SIZE) {
      await this.upsertChats(this.dataSource.manager, sessionId, chats.slice(start, start + CHAT_BATCH_SIZE));
    }
    if (!onProgress) return;
    for (let index = 0; index < chats.length; index++) await onProgress(index, chats.length, chats[index]);
  }

  /** Upserts a chat's messages in one transaction, then reports how many were stored. */
  async saveMessages(
    sessionId: string,
    chatId: string,
    messages: readonly WaMessage[],
    onProgress?: MessagesProgress,
  ): Promise<number> {
    const unique = lastById(messages);
    if (unique.length > 0) {
      await this.dataSource.transaction(async (manager) => {
        for (let start = 0; start < unique.length; start += MESSAGE_BATCH_SIZE) {
          await this.upsertMessages(manager, sessionId, chatId, unique.slice(start, start + MESSAGE_BATCH_SIZE));
        }
      });
    }
    await onProgress?.(unique.length);
    return unique.length;
  }

  /** Stores one live message, with a placeholder chat row when the chat was never synced. */
  async saveLiveMessage(sessionId: string, message: WaMessage): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(INSERT_CHAT_STUB_SQL, [
        sessionId,
        pgSafeText(message.chatId),
        message.chatId.endsWith('@g.us'),
        pgSafeTimestamp(message.timestamp),
      ]);
      await this.upsertMessages(manager, sessionId, message.chatId, [message]);
    });
  }

  async updateMessageAck(sessionId: string, messageId: string, ack: number): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(MessageEntity)
      .set({ ack, updatedAt: () => 'now()' })
      .where('session_id = :sessionId AND wa_id = :messageId AND ack <> :ack', { sessionId, messageId, ack })
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

  private async upsertChats(manager: EntityManager, sessionId: string, chats: readonly WaChat[]): Promise<void> {
    const rows = lastById(chats);
    if (rows.length === 0) return;
    await manager.query(UPSERT_CHATS_SQL, [
      sessionId,
      rows.map((c) => pgSafeText(c.id)),
      rows.map((c) => pgSafeText(c.name)),
      rows.map((c) => c.isGroup),
      rows.map((c) => Math.max(0, Math.trunc(c.unreadCount) || 0)),
      rows.map((c) => pgSafeTimestamp(c.timestamp)),
      rows.map((c) => c.archived),
      rows.map((c) => c.pinned),
      rows.map((c) => pgSafeJson(c.raw)),
    ]);
  }

  private async upsertMessages(
    manager: EntityManager,
    sessionId: string,
    chatId: string,
    messages: readonly WaMessage[],
  ): Promise<void> {
    await manager.query(UPSERT_MESSAGES_SQL, [
      sessionId,
      pgSafeText(chatId),
      messages.map((m) => pgSafeText(m.id)),
      messages.map((m) => m.fromMe),
      messages.map((m) => pgSafeNullableText(m.author)),
      messages.map((m) => pgSafeText(m.body)),
      messages.map((m) => pgSafeText(m.type)),
      messages.map((m) => pgSafeTimestamp(m.timestamp) ?? 0),
      messages.map((m) => m.hasMedia),
      messages.map((m) => Math.trunc(m.ack) || 0),
      messages.map((m) => pgSafeJson(m.raw)),
    ]);
  }
}
