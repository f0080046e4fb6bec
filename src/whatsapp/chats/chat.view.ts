import { ChatEntity } from '../../database/entities/chat.entity';
import { MessageEntity } from '../../database/entities/message.entity';
import { MessageReactionEntity } from '../../database/entities/message-reaction.entity';
import type { MediaView } from '../../media/media.types';
import { WaChat, WaMessage } from '../client/whatsapp.types';

/** A stored chat as clients see it: WhatsApp's id, never our database key, and when the row last changed. */
export type ChatView = Omit<WaChat, 'raw'> & { updatedAt: string };

/** One sender's reaction to a message. */
export interface ReactionView {
  senderId: string;
  emoji: string;
  /** Unix seconds. */
  timestamp: number;
}

/**
 * A stored message as clients see it (REST, `message` and `message_update`): the typed fields, no
 * raw, and its changes: `editedAt` (`null` when never edited), `revoked` with `revokedAt` (`false` /
 * `null` when not deleted for everyone), `reactions` (`[]` when none), oldest first; `media`: its
 * download (`null` when the message has none, or none was queued: README, "Media").
 */
export type MessageView = Omit<WaMessage, 'raw' | 'editedAt'> & {
  editedAt: number | null;
  revoked: boolean;
  revokedAt: number | null;
  reactions: ReactionView[];
  media: MediaView | null;
};

/** A page of `GET /session/:id/chats/:chatId/messages`. */
export interface MessagePage {
  messages: MessageView[];
  nextCursor: string | null;
}

export function toChatView(row: ChatEntity): ChatView {
  return {
    id: row.waId,
    name: row.name,
    isGroup: row.isGroup,
    unreadCount: row.unreadCount,
    timestamp: row.timestamp,
    archived: row.archived,
    pinned: row.pinned,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A stored row, its reactions (see `reactionsByMessage`) and its media, by message id. */
export function messageRowToView(row: MessageEntity, reactions: ReadonlyMap<string, ReactionView[]> = new Map(), media: ReadonlyMap<string, MediaView> = new Map()): MessageView {
  return {
    id: row.waId,
    chatId: row.chatId,
    fromMe: row.fromMe,
    author: row.author,
    body: row.body,
    type: row.type,
    timestamp: row.timestamp,
    hasMedia: row.hasMedia,
    ack: row.ack,
    editedAt: row.editedAt,
    revoked: row.revoked,
    revokedAt: row.revokedAt,
    reactions: reactions.get(row.waId) ?? [],
    media: row.hasMedia ? (media.get(row.waId) ?? null) : null,
  };
}

/** Reaction rows grouped by the message they react to, in the rows' order. */
export function reactionsByMessage(rows: readonly MessageReactionEntity[]): Map<string, ReactionView[]> {
  const byMessage = new Map<string, ReactionView[]>();
  for (const r of rows) {
    let list = byMessage.get(r.messageId);
    if (!list) byMessage.set(r.messageId, (list = []));
    list.push({ senderId: r.senderId, emoji: r.emoji, timestamp: r.timestamp });
  }
  return byMessage;
}
