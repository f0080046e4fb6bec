import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { ChatEntity } from '../../database/entities/chat.entity';
import { JsonValue } from '../../common/json-equal';
import { RawObject, WaChat } from '../client/whatsapp.types';
import { pgSafeInt, pgSafeTimestamp } from './pg-safe';
import { INSERT_CHAT_STUB_SQL, STORED_CHATS_SQL, UPSERT_CHATS_SQL } from './upsert-sql';

/** A chat as a row of UPSERT_CHATS_SQL's JSON parameter. */
export function toChatRow(c: WaChat): ChatRow {
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

/** A chat's fields as UPSERT_CHATS_SQL's rows carry them (short keys keep the JSON small). */
export interface ChatRow {
  i: string;
  n: string;
  g: boolean;
  u: number;
  ts: number | null;
  a: boolean;
  p: boolean;
  r: RawObject;
}

/** A chat's newest stored message (by timestamp, then row id), or `null` when none is stored. */
export type NewestStored = { id: string; timestamp: number } | null;

/** A stored chat: its row as stored (a `ChatRow`, as the database gives it back), and its newest stored message. */
export interface StoredChat {
  row: JsonValue;
  newest: NewestStored;
}

/**
 * Chat rows. Writes take the `manager` of the caller's transaction when they are part of one; the
 * values arrive PostgreSQL-safe (see pg-safe.ts).
 */
@Injectable()
export class ChatRepository {
  constructor(@InjectRepository(ChatEntity) private readonly rows: Repository<ChatEntity>) {}

  /** One multi-row upsert: `rowsJson` is a JSON array of `toChatRow` rows (see UPSERT_CHATS_SQL). */
  async upsert(sessionId: string, rowsJson: string, manager: EntityManager = this.rows.manager): Promise<void> {
    await manager.query(UPSERT_CHATS_SQL, [sessionId, rowsJson]);
  }

  /** The session's stored chats (or those of `chatIds`) as stored, with their newest stored message, by chat id. */
  async stored(sessionId: string, chatIds: readonly string[] | null): Promise<Map<string, StoredChat>> {
    const rows = (await this.rows.manager.query(STORED_CHATS_SQL, [sessionId, chatIds])) as Array<{
      chat_id: string;
      newest_id: string | null;
      newest_ts: string | null;
      row: JsonValue;
    }>;
    return new Map(rows.map((r) => [r.chat_id, { row: r.row, newest: r.newest_id === null ? null : { id: r.newest_id, timestamp: Number(r.newest_ts) } }]));
  }

  /** A placeholder row for a chat seen live before any sync (see INSERT_CHAT_STUB_SQL). */
  async insertStub(sessionId: string, chatId: string, isGroup: boolean, timestamp: number | null, manager: EntityManager = this.rows.manager): Promise<void> {
    await manager.query(INSERT_CHAT_STUB_SQL, [sessionId, chatId, isGroup, timestamp]);
  }

  /** Stored chats, newest activity first. */
  list(sessionId: string): Promise<ChatEntity[]> {
    return this.rows.find({
      where: { sessionId },
      order: { timestamp: { direction: 'DESC', nulls: 'LAST' }, waId: 'ASC' },
    });
  }

  exists(sessionId: string, chatId: string): Promise<boolean> {
    return this.rows.exists({ where: { sessionId, waId: chatId } });
  }

  async deleteSession(sessionId: string, manager: EntityManager = this.rows.manager): Promise<void> {
    await manager.delete(ChatEntity, { sessionId });
  }
}
