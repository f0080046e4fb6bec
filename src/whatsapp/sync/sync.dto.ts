import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { SYNC_MODES, SYNC_RUN_STATUSES, SYNC_TRIGGERS, SyncMode, SyncRunStatus, SyncTrigger } from '../../database/entities/sync-run.entity';
import { strictInt } from '../../transport/strict-query';
import { ChatSyncResult, SyncResult, SyncRunView } from './sync.view';

/** Messages fetched per chat when the query names no `limitPerChat`, and the most it may name. */
export const DEFAULT_LIMIT_PER_CHAT = 100;
export const MAX_LIMIT_PER_CHAT = 10_000;
export const LIMIT_PER_CHAT_RULE = `limitPerChat must be an integer from 1 to ${MAX_LIMIT_PER_CHAT}`;

export const DEFAULT_SYNC_MODE: SyncMode = 'full';
export const MODE_RULE = `mode must be one of ${SYNC_MODES.join(', ')}`;

export class SyncQuery {
  @ApiPropertyOptional({
    enum: SYNC_MODES,
    default: DEFAULT_SYNC_MODE,
    description: '`full`: every chat\'s newest `limitPerChat` messages; `incremental`: only what is missing since the stored history',
  })
  @IsOptional()
  @IsIn(SYNC_MODES, { message: MODE_RULE })
  mode?: SyncMode;

  @ApiPropertyOptional({ description: 'Maximum messages fetched per chat', minimum: 1, maximum: MAX_LIMIT_PER_CHAT, default: DEFAULT_LIMIT_PER_CHAT })
  @IsOptional()
  @strictInt()
  @IsInt({ message: LIMIT_PER_CHAT_RULE })
  @Min(1, { message: LIMIT_PER_CHAT_RULE })
  @Max(MAX_LIMIT_PER_CHAT, { message: LIMIT_PER_CHAT_RULE })
  limitPerChat?: number;
}

/*
 * OpenAPI descriptions of the answers. Each class implements the type the service returns, so the
 * compiler keeps the documentation and the code in step.
 */

export class SyncResultDto implements SyncResult {
  @ApiProperty({ enum: [true] }) success: true;
  @ApiProperty({ description: 'Chats in the run, failed ones included', example: 45 }) chatsProcessed: number;
  @ApiProperty({ enum: ['Synchronization completed successfully'] }) message: 'Synchronization completed successfully';
  @ApiProperty({ format: 'uuid' }) syncId: string;
  @ApiProperty({ enum: SYNC_MODES }) mode: SyncMode;
  @ApiProperty() chatsFailed: number;
  @ApiProperty({ description: 'Incremental: chats stored and unchanged in WhatsApp, not fetched (no events)' }) chatsSkipped: number;
  @ApiProperty({ description: 'Incremental: chats with more new messages than SYNC_CATCHUP_MAX_PER_CHAT' }) chatsWithGap: number;
  @ApiProperty({ description: 'Messages the run stored (new or unchanged)' }) messagesSynced: number;
  @ApiProperty({ description: 'Of messagesSynced, the rows that are new' }) messagesInserted: number;
  @ApiProperty() durationMs: number;
}

export class ChatSyncResultDto implements ChatSyncResult {
  @ApiProperty({ enum: [true] }) success: true;
  @ApiProperty() chatId: string;
  @ApiProperty() messagesSynced: number;
  @ApiProperty({ enum: SYNC_MODES }) mode: SyncMode;
  @ApiProperty({ description: 'More new messages than SYNC_CATCHUP_MAX_PER_CHAT: those between are not stored' }) gap: boolean;
  @ApiProperty({ description: 'Incremental: nothing newer in WhatsApp, nothing fetched' }) skipped: boolean;
  @ApiProperty() messagesInserted: number;
  @ApiProperty({ format: 'uuid' }) syncId: string;
  @ApiProperty() durationMs: number;
}

export class SyncRunDto implements SyncRunView {
  @ApiProperty({ format: 'uuid' }) syncId: string;
  @ApiProperty({ enum: SYNC_RUN_STATUSES }) status: SyncRunStatus;
  @ApiProperty({ enum: SYNC_MODES }) mode: SyncMode;
  @ApiProperty({ enum: SYNC_TRIGGERS, description: '`api`: a REST call; `ready`: the session became ready (SYNC_ON_READY)' }) trigger: SyncTrigger;
  @ApiPropertyOptional({ description: 'The chat of a one-chat sync' }) chatId?: string;
  @ApiProperty() limitPerChat: number;
  @ApiProperty() nChats: number;
  @ApiProperty() currentChat: number;
  @ApiProperty() messagesSynced: number;
  @ApiProperty() chatsFailed: number;
  @ApiProperty() chatsSkipped: number;
  @ApiProperty() chatsWithGap: number;
  @ApiProperty() messagesInserted: number;
  @ApiProperty({ description: 'Calls into WhatsApp: the chat list and every message fetch' }) fetchCalls: number;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) finishedAt: string | null;
  @ApiPropertyOptional() error?: string;
}
