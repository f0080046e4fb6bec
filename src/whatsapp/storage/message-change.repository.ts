import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { MessageEntity } from '../../database/entities/message.entity';
import { MessageReactionEntity } from '../../database/entities/message-reaction.entity';
import { PendingMessageChangeEntity } from '../../database/entities/pending-message-change.entity';
import { REVOKED_TEXT_KEYS_SQL } from './upsert-sql';

/** What a live change did: changed the stored message, found it already so, or kept it for a message not stored yet. */
export type ChangeOutcome = 'changed' | 'unchanged' | 'pending';

/*
 * Each change is one statement: `target` finds the stored message, `changed` updates it when the
 * change is news (never backwards: see MESSAGE_UPDATES in upsert-sql.ts), and `kept` merges the
 * change into the message's pending row when the message is not stored yet; UPSERT_MESSAGES_SQL
 * applies that row when the message arrives. `$1` session, `$2` message id, `$3` chat id.
 */
const TARGET = `target AS (SELECT id FROM messages WHERE session_id = $1 AND wa_id = $2)`;
const OUTCOME = `SELECT EXISTS (SELECT 1 FROM target) AS stored, EXISTS (SELECT 1 FROM changed) AS changed`;

/** `$4` body, `$5` edited at, `$6` KEEP_REVOKED_BODY. An edit older than the stored one, or of a deleted message, changes nothing. */
const EDIT_SQL = `
  WITH ${TARGET}, changed AS (
    UPDATE messages m SET body = $4::text, edited_at = $5::bigint, updated_at = now()
    FROM target WHERE m.id = target.id AND NOT m.revoked AND (m.edited_at IS NULL OR m.edited_at <= $5::bigint)
      AND (m.body, m.edited_at) IS DISTINCT FROM ($4::text, $5::bigint)
    RETURNING m.id
  ), kept AS (
    INSERT INTO pending_message_changes AS p (session_id, message_id, chat_id, body, edited_at)
    SELECT $1, $2, $3, $4::text, $5::bigint WHERE NOT EXISTS (SELECT 1 FROM target)
    ON CONFLICT (session_id, message_id) DO UPDATE SET
      body = CASE WHEN p.revoked_at IS NOT NULL AND NOT $6::boolean THEN NULL
        WHEN p.edited_at > EXCLUDED.edited_at THEN p.body ELSE EXCLUDED.body END,
      edited_at = GREATEST(p.edited_at, EXCLUDED.edited_at), updated_at = now()
  )
  ${OUTCOME}`;

/** `$4` revoked at, `$5` KEEP_REVOKED_BODY. A deletion is final: a second one changes nothing. */
const REVOKE_SQL = `
  WITH ${TARGET}, changed AS (
    UPDATE messages m SET revoked = true, revoked_at = $4::bigint,
      body = CASE WHEN $5::boolean THEN m.body ELSE '' END,
      raw = CASE WHEN $5::boolean THEN m.raw ELSE m.raw - ${REVOKED_TEXT_KEYS_SQL} END,
      updated_at = now()
    FROM target WHERE m.id = target.id AND NOT m.revoked
    RETURNING m.id
  ), kept AS (
    INSERT INTO pending_message_changes AS p (session_id, message_id, chat_id, revoked_at)
    SELECT $1, $2, $3, $4::bigint WHERE NOT EXISTS (SELECT 1 FROM target)
    ON CONFLICT (session_id, message_id) DO UPDATE SET
      revoked_at = COALESCE(p.revoked_at, EXCLUDED.revoked_at),
      body = CASE WHEN $5::boolean THEN p.body END, updated_at = now()
  )
  ${OUTCOME}`;

/** `$4` ack: the highest wins. */
const ACK_SQL = `
  WITH ${TARGET}, changed AS (
    UPDATE messages m SET ack = $4::integer, updated_at = now()
    FROM target WHERE m.id = target.id AND m.ack < $4::integer
    RETURNING m.id
  ), kept AS (
    INSERT INTO pending_message_changes AS p (session_id, message_id, chat_id, ack)
    SELECT $1, $2, $3, $4::integer WHERE NOT EXISTS (SELECT 1 FROM target)
    ON CONFLICT (session_id, message_id) DO UPDATE SET ack = GREATEST(p.ack, EXCLUDED.ack), updated_at = now()
  )
  ${OUTCOME}`;

/**
 * A sender's reaction, set or replaced (`$4` emoji, `$5` timestamp); one older than the stored one
 * changes nothing. Reactions are keyed by the message's WhatsApp id, so that one to a message not
 * stored yet needs no pending row: it shows once the message arrives.
 */
const SET_REACTION_SQL = `
  INSERT INTO message_reactions AS r (session_id, message_id, sender_id, emoji, timestamp)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (session_id, message_id, sender_id) DO UPDATE SET emoji = EXCLUDED.emoji, timestamp = EXCLUDED.timestamp, updated_at = now()
  WHERE r.timestamp <= EXCLUDED.timestamp AND (r.emoji, r.timestamp) IS DISTINCT FROM (EXCLUDED.emoji, EXCLUDED.timestamp)
  RETURNING id`;

/** A sender's reaction removed (`$4` the removal's timestamp: a newer reaction stays). */
const REMOVE_REACTION_SQL = `
  DELETE FROM message_reactions WHERE session_id = $1 AND message_id = $2 AND sender_id = $3 AND timestamp <= $4
  RETURNING id`;

/**
 * Live message changes (edits, deletions for everyone, acks, reactions) and what is kept of them for
 * messages not stored yet. The values arrive PostgreSQL-safe (see pg-safe.ts).
 */
@Injectable()
export class MessageChangeRepository {
  constructor(
    @InjectRepository(MessageEntity) private readonly messages: Repository<MessageEntity>,
    @InjectRepository(MessageReactionEntity) private readonly reactions: Repository<MessageReactionEntity>,
  ) {}

  edit(sessionId: string, messageId: string, chatId: string, body: string, editedAt: number, keepRevokedBody: boolean, manager = this.messages.manager): Promise<ChangeOutcome> {
    return this.change(manager, EDIT_SQL, [sessionId, messageId, chatId, body, editedAt, keepRevokedBody]);
  }

  revoke(sessionId: string, messageId: string, chatId: string, revokedAt: number, keepRevokedBody: boolean, manager = this.messages.manager): Promise<ChangeOutcome> {
    return this.change(manager, REVOKE_SQL, [sessionId, messageId, chatId, revokedAt, keepRevokedBody]);
  }

  ack(sessionId: string, messageId: string, chatId: string, ack: number, manager = this.messages.manager): Promise<ChangeOutcome> {
    return this.change(manager, ACK_SQL, [sessionId, messageId, chatId, ack]);
  }

  /** Sets (`emoji` not empty) or removes (`""`) a sender's reaction; answers whether a row changed. */
  async react(sessionId: string, messageId: string, senderId: string, emoji: string, timestamp: number, manager = this.messages.manager): Promise<boolean> {
    const sql = emoji === '' ? REMOVE_REACTION_SQL : SET_REACTION_SQL;
    const params = emoji === '' ? [sessionId, messageId, senderId, timestamp] : [sessionId, messageId, senderId, emoji, timestamp];
    const rows = (await manager.query(sql, params)) as unknown[];
    return rows.length > 0;
  }

  /** The reactions to these messages, oldest first. */
  reactionsOf(sessionId: string, messageIds: readonly string[], manager = this.reactions.manager): Promise<MessageReactionEntity[]> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return manager.find(MessageReactionEntity, {
      where: { sessionId, messageId: messageIds.length === 1 ? messageIds[0] : In([...messageIds]) },
      order: { timestamp: 'ASC', senderId: 'ASC' },
    });
  }

  /** The stored messages of these ids, oldest first (by timestamp, then id). */
  findMessages(sessionId: string, messageIds: readonly string[], manager = this.messages.manager): Promise<MessageEntity[]> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return manager.find(MessageEntity, { where: { sessionId, waId: messageIds.length === 1 ? messageIds[0] : In([...messageIds]) }, order: { timestamp: 'ASC', waId: 'ASC' } });
  }

  async deleteSession(sessionId: string, manager: EntityManager = this.messages.manager): Promise<void> {
    await manager.delete(MessageReactionEntity, { sessionId });
    await manager.delete(PendingMessageChangeEntity, { sessionId });
  }

  private async change(manager: EntityManager, sql: string, params: unknown[]): Promise<ChangeOutcome> {
    const [{ stored, changed }] = (await manager.query(sql, params)) as [{ stored: boolean; changed: boolean }];
    return changed ? 'changed' : stored ? 'unchanged' : 'pending';
  }
}
