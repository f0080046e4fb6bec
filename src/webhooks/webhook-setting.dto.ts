import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayNotEmpty, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Length, Matches, Validate, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { WEBHOOK_EVENT_NAMES, WEBHOOK_SECRET_MAX_LENGTH, WebhookEventName, webhookUrlProblem } from './webhook-rules';
import { WebhookSettingView } from './webhook-setting.view';

@ValidatorConstraint({ name: 'webhookUrl' })
class IsWebhookUrl implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && webhookUrlProblem(value) === null;
  }

  defaultMessage(args?: ValidationArguments): string {
    const value: unknown = args?.value;
    return `url ${typeof value === 'string' ? webhookUrlProblem(value) : 'must be a string'}`;
  }
}

/** `PUT /session/:id/webhook`. */
export class WebhookSettingBody {
  @ApiProperty({ example: 'https://crm.example.com/hooks/whatsapp', description: 'http(s), no user or password in it' })
  // class-validator runs a property's decorators bottom-up, and stops at the first failure: the type first.
  @Validate(IsWebhookUrl)
  @IsString({ message: 'url must be a string' })
  url: string;

  @ApiPropertyOptional({ description: `Signs every delivery (HMAC-SHA256); 1-${WEBHOOK_SECRET_MAX_LENGTH} characters. Never answered.` })
  @IsOptional()
  // PostgreSQL cannot store a NUL in text.
  @Matches(/^[^\u0000]*$/, { message: 'secret must not contain a NUL character' })
  @Length(1, WEBHOOK_SECRET_MAX_LENGTH, { message: `secret must be 1 to ${WEBHOOK_SECRET_MAX_LENGTH} characters` })
  @IsString({ message: 'secret must be a string' })
  secret?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_NAMES, isArray: true, description: 'Default: all of them' })
  @IsOptional()
  @ArrayUnique({ message: 'events must not repeat an event' })
  @IsIn(WEBHOOK_EVENT_NAMES, { each: true, message: `events must each be one of ${WEBHOOK_EVENT_NAMES.join(', ')}` })
  @ArrayNotEmpty({ message: 'events must name at least one event (leave it out for all of them)' })
  @IsArray({ message: `events must be an array of ${WEBHOOK_EVENT_NAMES.join(', ')}` })
  events?: WebhookEventName[];
}

export class WebhookSettingDto implements WebhookSettingView {
  @ApiProperty({ example: 'sales-team' }) sessionId: string;
  @ApiProperty({ example: 'https://crm.example.com/hooks/whatsapp' }) url: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_NAMES, isArray: true }) events: WebhookEventName[];
  @ApiProperty({ description: 'Whether a secret is set (the secret itself is never answered)' }) hasSecret: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
