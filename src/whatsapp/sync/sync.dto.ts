import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { SYNC_RUN_STATUSES, SyncRunStatus } from '../../database/entities/sync-run.entity';
import { strictInt } from '../../transport/strict-query';
import { SyncResult, SyncRunView } from './sync.view';

/** Messages fetched per chat when the query names no `limitPerChat`, and the most it may name. */
export const DEFAULT_LIMIT_PER_CHAT = 100;
export const MAX_LIMIT_PER_CHAT = 10_000;
export const LIMIT_PER_CHAT_RULE = `limitPerChat must be an integer from 1 to ${MAX_LIMIT_PER_CHAT}`;

export class SyncQuery {
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
