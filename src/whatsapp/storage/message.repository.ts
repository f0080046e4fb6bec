import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { MessageEntity } from '../../database/entities/message.entity';
import { preparedQuery } from '../../database/prepared-query';
import { WaMessage } from '../client/whatsapp.types';
import { MessageCursor } from './message-cursor';
import { pgSafeInt, pgSafeTimestamp } from './pg-safe';
import { UPSERT_MESSAGES_RETURNING_NEW_SQL, UPSERT_MESSAGES_SQL } from './upsert-sql';

/** A message as a row of UPSERT_MESSAGES_SQL's JSON parameter. */
export function toMessageRow(m: WaMessage) {
  return {
    i: m.id,
    f: m.fromMe,
    a: m.author,
    b: m.body,
    t: m.type,
    ts: pgSafeTimestamp(m.timestamp) ?? 0,
    m: m.hasMedia,
    k: pgSafeInt(m.ack),
    e: pgSafeTimestamp(m.editedAt ?? null),
    // whatsapp-web.js shows a message deleted for everyone with this type.
    rv: m.type === 'revoked',
    r: m.raw,
  };
}

/** What an upsert of a chat's messages did: rows the chat holds of them, and how many of those are new. */
export interface MessagesWritten {
  held: number;
  inserted: number;
}

/**
 * Message rows. Writes take the `manager` of the caller's transaction when they are part of one; the
 * values arrive PostgreSQL-safe (see pg-safe.ts).
 */
@Injectable()
export class MessageRepository {
  constructor(@InjectRepository(MessageEntity) private readonly rows: Repository<MessageEntity>) {}

  /**
   * One upsert statement of a chat's messages: `rowsJson` is a JSON array of `toMessageRow` rows.
   * Answers how many of them the chat holds afterwards and how many rows are new (see
   * UPSERT_MESSAGES_SQL, which also applies the changes kept for messages not stored yet).
   * `keepRevokedBody`: KEEP_REVOKED_BODY.
   */
  async upsert(sessionId: string, chatId: string, rowsJson: string, keepRevokedBody: boolean, manager: EntityManager = this.rows.manager): Promise<MessagesWritten> {
    const [{ held, inserted }] = await preparedQuery<MessagesWritten>(manager, 'upsert_messages', UPSERT_MESSAGES_SQL, [sessionId, chatId, rowsJson, keepRevokedBody]);
    return { held, inserted };
  }

  /** `upsert`, also answering the ids of the new rows (`insertedIds`). */
  async upsertReturningNew(
    sessionId: string,
    chatId: string,
    rowsJson: string,
    keepRevokedBody: boolean,
    manager: EntityManager,
  ): Promise<MessagesWritten & { insertedIds: string[] }> {
    const [row] = await preparedQuery<MessagesWritten & { inserted_ids: string[] }>(manager, 'upsert_messages_returning_new', UPSERT_MESSAGES_RETURNING_NEW_SQL, [sessionId, chatId, rowsJson, keepRevokedBody]);
    return { held: row.held, inserted: row.inserted, insertedIds: row.inserted_ids };
  }

  /** One page of a chat's messages, newest first, strictly older than `before`. */
  page(sessionId: string, chatId: string, limit: number, before: MessageCursor | null): Promise<MessageEntity[]> {
    const query = this.rows
      .createQueryBuilder('m')
      .where('m.session_id = :sessionId AND m.chat_id = :chatId', { sessionId, chatId })
      .orderBy('m.timestamp', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(limit);
    if (before) query.andWhere('(m.timestamp, m.id) < (:ts, :id)', { ts: before.timestamp, id: before.id });
    return query.getMany();
  }

  async deleteSession(sessionId: string, manager: EntityManager = this.rows.manager): Promise<void> {
    await manager.delete(MessageEntity, { sessionId });
  }
}
