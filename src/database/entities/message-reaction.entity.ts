import { Column, Entity, Unique } from 'typeorm';
import { bigintAsNumber } from './bigint.transformer';
import { Timestamped } from './timestamped';

/**
 * A reaction to a message: one per sender and message, keyed by the message's WhatsApp id (not a
 * foreign key), so that a reaction to a message not stored yet shows once the message arrives.
 */
@Entity({ name: 'message_reactions' })
@Unique('uq_message_reactions_session_message_sender', ['sessionId', 'messageId', 'senderId'])
export class MessageReactionEntity extends Timestamped {
  @Column({ type: 'bigint', primary: true, generated: 'identity', generatedIdentity: 'BY DEFAULT', transformer: bigintAsNumber })
  id: number;

  @Column({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  /** The WhatsApp serialized id of the message reacted to. */
  @Column({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ name: 'sender_id', type: 'text' })
  senderId: string;

  @Column({ type: 'text' })
  emoji: string;

  /** Unix seconds. */
  @Column({ type: 'bigint', transformer: bigintAsNumber })
  timestamp: number;
}
