import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, Min, ValidateBy } from 'class-validator';
import { strictBool, strictInt } from '../../transport/strict-query';
import { SessionParams } from '../session/session.dto';
import { isStorableChatIdParam, MAX_CHAT_ID_BYTES } from '../storage/pg-safe';
import { SyncQuery } from '../sync/sync.dto';
import { MEDIA_STATUSES, MediaStatus, MediaView } from '../../media/media.types';
import { ChatView, MessagePage, MessageView, ReactionView } from './chat.view';

/** Messages per page when the query names no `limit`, and the most it may name. */
export const DEFAULT_MESSAGE_PAGE_LIMIT = 50;
export const MAX_MESSAGE_PAGE_LIMIT = 500;
export const LIMIT_RULE = `limit must be an integer from 1 to ${MAX_MESSAGE_PAGE_LIMIT}`;
export const CHAT_ID_RULE = `chatId must be 1 to ${MAX_CHAT_ID_BYTES} bytes of UTF-8 text without NUL characters`;

export class ChatParams extends SessionParams {
  @ApiProperty({
    description: `WhatsApp serialized chat id, URL-encoded: any id a sync stored (1 to ${MAX_CHAT_ID_BYTES} bytes of UTF-8, no NUL)`,
    example: '5511999990000@c.us',
  })
  @ValidateBy({ name: 'isStorableChatId', validator: { validate: isStorableChatIdParam } }, { message: CHAT_ID_RULE })
  chatId: string;
}

/** `GET chats`: synchronizes first (with `limitPerChat`), unless `sync=false`. */
export class ChatsQuery extends SyncQuery {
  @ApiPropertyOptional({ description: '`false` returns the stored chats without synchronizing', default: true })
  @IsOptional()
  @strictBool()
  @IsBoolean({ message: 'sync must be true or false' })
  sync?: boolean;
}

export class MessagesQuery {
  @ApiPropertyOptional({ description: 'Page size', minimum: 1, maximum: MAX_MESSAGE_PAGE_LIMIT, default: DEFAULT_MESSAGE_PAGE_LIMIT })
  @IsOptional()
  @strictInt()
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(MAX_MESSAGE_PAGE_LIMIT, { message: LIMIT_RULE })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString({ message: 'before must be a nextCursor returned by a previous page' })
  before?: string;
}

/*
 * OpenAPI descriptions of the answers. Each class implements the type the service returns, so the
 * compiler keeps the documentation and the code in step.
 */

export class ChatDto implements ChatView {
  @ApiProperty({ example: '5511999990000@c.us' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() isGroup: boolean;
  @ApiProperty() unreadCount: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Unix seconds of the last activity' }) timestamp: number | null;
  @ApiProperty() archived: boolean;
  @ApiProperty() pinned: boolean;
  @ApiProperty({ format: 'date-time', description: 'When the stored row last changed' }) updatedAt: string;
}

export class ReactionDto implements ReactionView {
  @ApiProperty({ example: '5511988887777@c.us' }) senderId: string;
  @ApiProperty({ example: '👍' }) emoji: string;
  @ApiProperty({ description: 'Unix seconds' }) timestamp: number;
}

export class MediaDto implements MediaView {
  @ApiProperty({ enum: MEDIA_STATUSES, description: 'pending (queued or being retried), stored, failed (attempts used up), too_large (past MEDIA_MAX_BYTES), expired (WhatsApp no longer has it)' }) status: MediaStatus;
  @ApiProperty({ type: String, nullable: true, example: 'image/jpeg' }) mimetype: string | null;
  @ApiProperty({ type: String, nullable: true }) filename: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Bytes: those stored, or before that what WhatsApp announced' }) size: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'SHA-256 (hex) of the stored bytes; also the ETag of the media route' }) sha256: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed' }) error: string | null;
}

export class MessageDto implements MessageView {
  @ApiProperty({ example: 'true_5511999990000@c.us_3EB0C767D26A1D8E0A2B' }) id: string;
  @ApiProperty() chatId: string;
  @ApiProperty() fromMe: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Sender in a group' }) author: string | null;
  @ApiProperty({ description: 'Text, or the caption of a media message' }) body: string;
  @ApiProperty({ example: 'chat' }) type: string;
  @ApiProperty({ description: 'Unix seconds' }) timestamp: number;
  @ApiProperty() hasMedia: boolean;
  @ApiProperty({ description: 'Delivery state: 0 pending ... 3 read; the highest seen' }) ack: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Unix seconds of the latest edit; null when never edited' }) editedAt: number | null;
  @ApiProperty({ description: 'Deleted for everyone (its text is dropped unless KEEP_REVOKED_BODY=true)' }) revoked: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'Unix seconds at which the deletion was seen; null when not deleted' }) revokedAt: number | null;
  @ApiProperty({ type: () => [ReactionDto], description: 'One per sender, oldest first; [] when none' }) reactions: ReactionDto[];
  @ApiProperty({ type: () => MediaDto, nullable: true, description: 'The media download; null when the message has none (or none was queued)' }) media: MediaDto | null;
}

export class MessagePageDto implements MessagePage {
  @ApiProperty({ type: [MessageDto] }) messages: MessageDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last' }) nextCursor: string | null;
}
