import { ChatEntity } from '../../database/entities/chat.entity';
import { MessageEntity } from '../../database/entities/message.entity';
import { WaChat, WaMessage } from '../client/whatsapp.types';

/** A stored chat as clients see it: WhatsApp's id, never our database key, and when the row last changed. */
export type ChatView = Omit<WaChat, 'raw'> & { updatedAt: string };

/** A stored message as clients see it (REST and the `message` event): the typed fields, no raw. */
export type MessageView = Omit<WaMessage, 'raw'>;

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

export function toMessageView(message: WaMessage): MessageView {
  const { id, chatId, fromMe, author, body, type, timestamp, hasMedia, ack } = message;
  return { id, chatId, fromMe, author, body, type, timestamp, hasMedia, ack };
}

export function messageRowToView(row: MessageEntity): MessageView {
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
  };
}
