import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';
import { Timestamped } from './timestamped';

/**
 * What live changes said about a message that was not stored yet, merged into one row per message:
 * the message upsert applies it when the message arrives (by a sync or live) and deletes it.
 */
@Entity({ name: 'pending_message_changes' })
export class PendingMessageChangeEntity extends Timestamped {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  @PrimaryColumn({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ name: 'chat_id', type: 'text' })
  chatId: string;

  /** The latest edit's text (dropped by a deletion unless KEEP_REVOKED_BODY=true). */
  @Column({ type: 'text', nullable: true })
  body: string | null;

  @Column({ name: 'edited_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  editedAt: number | null;

  @Column({ name: 'revoked_at', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  revokedAt: number | null;

  /** The highest ack seen. */
  @Column({ type: 'integer', nullable: true })
  ack: number | null;
}
