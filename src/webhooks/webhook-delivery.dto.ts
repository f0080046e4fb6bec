import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, Min } from 'class-validator';
import { strictInt } from '../transport/strict-query';
import { SESSION_ID_PATTERN, SESSION_ID_RULE } from '../whatsapp/session/session-id';
import { DELIVERY_STATUSES, DeliveryStatus } from './webhook-delivery.repository';
import { WebhookDeliveryPage, WebhookDeliveryView } from './webhook-delivery.view';

export const DEFAULT_DELIVERY_PAGE_LIMIT = 50;
export const MAX_DELIVERY_PAGE_LIMIT = 500;
const LIMIT_RULE = `limit must be an integer from 1 to ${MAX_DELIVERY_PAGE_LIMIT}`;

export class DeliveriesQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ example: 'sales-team' })
  @IsOptional()
  @Matches(SESSION_ID_PATTERN, { message: `sessionId: ${SESSION_ID_RULE}` })
  sessionId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DELIVERY_PAGE_LIMIT, default: DEFAULT_DELIVERY_PAGE_LIMIT })
  @IsOptional()
  @strictInt()
  @Max(MAX_DELIVERY_PAGE_LIMIT, { message: LIMIT_RULE })
  @Min(1, { message: LIMIT_RULE })
  @IsInt({ message: LIMIT_RULE })
  limit?: number;

  @ApiPropertyOptional({ description: 'The `nextCursor` of the previous page' })
  @IsOptional()
  @IsString({ message: 'before must be a nextCursor returned by a previous page' })
  before?: string;
}

export class DeliveryParams {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'id must be a delivery id (a UUID)' })
  id: string;
}

export class WebhookDeliveryDto implements WebhookDeliveryView {
  @ApiProperty({ format: 'uuid', description: 'Also the x-webhook-id header of every attempt' }) id: string;
  @ApiProperty() sessionId: string;
  @ApiProperty() url: string;
  @ApiProperty() event: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: DeliveryStatus;
  @ApiProperty() attempts: number;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) nextAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) lastStatusCode: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) deliveredAt: string | null;
  @ApiProperty({ type: Object, description: 'The body\'s `payload`' }) payload: Record<string, unknown>;
}

export class WebhookDeliveryPageDto implements WebhookDeliveryPage {
  @ApiProperty({ type: [WebhookDeliveryDto] }) deliveries: WebhookDeliveryDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
