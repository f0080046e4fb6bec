import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import { isStorableChatIdParam, MAX_CHAT_ID_BYTES } from '../storage/pg-safe';
import { SESSION_ID_PATTERN, SESSION_ID_RULE } from './session-id';

/** Query strings arrive as text: only plain digits become numbers, so `1.5`, `1e3`, `0x10` fail. */
const strictInt = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value));
/** Only `true` and `false` are booleans. */
const strictBool = () =>
  Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value));

export const LIMIT_PER_CHAT_RULE = 'limitPerChat must be an integer from 1 to 10000';
export const LIMIT_RULE = 'limit must be an integer from 1 to 500';
export const CHAT_ID_RULE = `chatId must be 1 to ${MAX_CHAT_ID_BYTES} bytes of UTF-8 text without NUL characters`;

export class SessionParams {
  @ApiProperty({ description: 'Session id: 1-64 characters of A-Z a-z 0-9 _ -', example: 'sales-team' })
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_RULE })
  id: string;
}

export class ChatParams extends SessionParams {
  @ApiProperty({
    description: `WhatsApp serialized chat id, URL-encoded: any id a sync stored (1 to ${MAX_CHAT_ID_BYTES} bytes of UTF-8, no NUL)`,
    example: '5511999990000@c.us',
  })
  @ValidateBy({ name: 'isStorableChatId', validator: { validate: isStorableChatIdParam } }, { message: CHAT_ID_RULE })
  chatId: string;
}

export class SyncQuery {
  @ApiPropertyOptional({ description: 'Maximum messages fetched per chat', minimum: 1, maximum: 10000, default: 100 })
  @IsOptional()
  @strictInt()
  @IsInt({ message: LIMIT_PER_CHAT_RULE })
  @Min(1, { message: LIMIT_PER_CHAT_RULE })
  @Max(10000, { message: LIMIT_PER_CHAT_RULE })
  limitPerChat?: number;
}

export class ChatsQuery extends SyncQuery {
  @ApiPropertyOptional({ description: '`false` returns the stored chats without synchronizing', default: true })
  @IsOptional()
  @strictBool()
  @IsBoolean({ message: 'sync must be true or false' })
  sync?: boolean;
}

export class MessagesQuery {
  @ApiPropertyOptional({ description: 'Page size', minimum: 1, maximum: 500, default: 50 })
  @IsOptional()
  @strictInt()
  @IsInt({ message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @Max(500, { message: LIMIT_RULE })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString({ message: 'before must be a nextCursor returned by a previous page' })
  before?: string;
}

export class DeleteQuery {
  @ApiPropertyOptional({ description: '`true` also deletes the stored chats, messages and sync runs', default: false })
  @IsOptional()
  @strictBool()
  @IsBoolean({ message: 'purge must be true or false' })
  purge?: boolean;
}
