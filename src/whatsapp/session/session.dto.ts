import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, Matches } from 'class-validator';
import { strictBool } from '../../transport/strict-query';
import { SESSION_STATUSES, SessionStatus } from '../client/whatsapp.types';
import { SESSION_ID_PATTERN, SESSION_ID_RULE } from './session-id';
import { SessionView } from './session.view';

export class SessionParams {
  @ApiProperty({ description: 'Session id: 1-64 characters of A-Z a-z 0-9 _ -', example: 'sales-team' })
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_RULE })
  id: string;
}

export class DeleteQuery {
  @ApiPropertyOptional({ description: '`true` also deletes the stored chats, messages and sync runs', default: false })
  @IsOptional()
  @strictBool()
  @IsBoolean({ message: 'purge must be true or false' })
  purge?: boolean;
}

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
  @ApiProperty({ type: String, nullable: true, description: 'The instance that runs the session (INSTANCE_ID); null when none does' }) owner: string | null;
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
