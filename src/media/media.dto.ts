import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { ChatParams } from '../whatsapp/chats/chat.dto';
import { isStorableChatIdParam, MAX_CHAT_ID_BYTES } from '../whatsapp/storage/pg-safe';

export const MESSAGE_ID_RULE = `messageId must be 1 to ${MAX_CHAT_ID_BYTES} bytes of UTF-8 text without NUL characters`;

export class MediaParams extends ChatParams {
  @ApiProperty({ description: 'WhatsApp serialized message id, URL-encoded', example: 'false_5511999990000@c.us_3EB0C767D26A1D8E0A2B' })
  @ValidateBy({ name: 'isMessageId', validator: { validate: isStorableChatIdParam } }, { message: MESSAGE_ID_RULE })
  messageId: string;
}
