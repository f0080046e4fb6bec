import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SESSION_STATUSES, SessionStatus } from '../client/whatsapp.types';
import { SYNC_RUN_STATUSES, SyncRunStatus } from '../../database/entities/sync-run.entity';
import { MessageView } from '../events';
import { ChatView } from '../mappers';
import { SessionView } from '../session/session.service';
import { SyncResult } from '../sync/sync-result';
import { SyncRunView } from '../sync/sync-run';
import { MessagePage } from '../whatsapp-query.service';

/*
 * OpenAPI descriptions of the answers. Each class implements the type the service returns, so the
 * compiler keeps the documentation and the code in step.
 */

export class MeDto {
  @ApiProperty({ example: '5511999990000@c.us' }) id: string;
  @ApiProperty({ type: String, nullable: true }) pushName: string | null;
}

export class SessionDto implements SessionView {
  @ApiProperty({ example: 'sales-team' }) sessionId: string;
  @ApiProperty({ enum: SESSION_STATUSES }) status: SessionStatus;
  @ApiProperty({ type: MeDto, nullable: true }) me: MeDto | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the session failed or disconnected' }) error: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) createdAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) updatedAt: string | null;
}

export class QrDto {
  @ApiProperty({ description: 'The raw QR string' }) qr: string;
  @ApiProperty({ description: 'The QR as a PNG data URL', example: 'data:image/png;base64,iVBORw0...' }) dataUrl: string;
}

export class DeletedDto {
  @ApiProperty() sessionId: string;
  @ApiProperty({ enum: [true] }) deleted: true;
  @ApiProperty() purged: boolean;
}

export class SyncResultDto implements SyncResult {
  @ApiProperty({ enum: [true] }) success: true;
  @ApiProperty({ description: 'Chats in the run, failed ones included', example: 45 }) chatsProcessed: number;
  @ApiProperty({ enum: ['Synchronization completed successfully'] }) message: 'Synchronization completed successfully';
  @ApiProperty({ format: 'uuid' }) syncId: string;
  @ApiProperty() chatsFailed: number;
  @ApiProperty() messagesSynced: number;
  @ApiProperty() durationMs: number;
}

export class SyncRunDto implements SyncRunView {
  @ApiProperty({ format: 'uuid' }) syncId: string;
  @ApiProperty({ enum: SYNC_RUN_STATUSES }) status: SyncRunStatus;
  @ApiProperty() limitPerChat: number;
  @ApiProperty() nChats: number;
  @ApiProperty() currentChat: number;
  @ApiProperty() messagesSynced: number;
  @ApiProperty() chatsFailed: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finishedAt: string | null;
  @ApiPropertyOptional() error?: string;
}

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

export class MessageDto implements MessageView {
  @ApiProperty({ example: 'true_5511999990000@c.us_3EB0C767D26A1D8E0A2B' }) id: string;
  @ApiProperty() chatId: string;
  @ApiProperty() fromMe: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'Sender in a group' }) author: string | null;
  @ApiProperty({ description: 'Text, or the caption of a media message' }) body: string;
  @ApiProperty({ example: 'chat' }) type: string;
  @ApiProperty({ description: 'Unix seconds' }) timestamp: number;
  @ApiProperty() hasMedia: boolean;
  @ApiProperty({ description: 'Delivery state: 0 pending ... 3 read' }) ack: number;
}

export class MessagePageDto implements MessagePage {
  @ApiProperty({ type: [MessageDto] }) messages: MessageDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for the next page; null on the last' }) nextCursor: string | null;
}

export class ErrorDto {
  @ApiProperty({ example: 400 }) statusCode: number;
  @ApiProperty({ example: 'Bad Request' }) error: string;
  @ApiProperty({ example: 'limitPerChat must be an integer from 1 to 10000' }) message: string;
}
