import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ErrorDto } from '../transport/error.dto';
import { SessionParams } from '../whatsapp/session/session.dto';
import { DeliveriesQuery, DeliveryParams, WebhookDeliveryDto, WebhookDeliveryPageDto } from './webhook-delivery.dto';
import { WebhookDeliveryPage, WebhookDeliveryView } from './webhook-delivery.view';
import { WebhookDeliveriesService } from './webhook-deliveries.service';
import { WebhookSettingBody, WebhookSettingDto } from './webhook-setting.dto';
import { WebhookSettingService } from './webhook-setting.service';
import { WebhookSettingView } from './webhook-setting.view';

const BAD_INPUT = { status: 400, type: ErrorDto, description: 'Invalid id or body' };
const UNKNOWN = { status: 404, type: ErrorDto, description: 'Unknown session, or (GET, DELETE) no webhook of its own' };

/** A session's own webhook, and the deliveries of every webhook (README, "Webhooks"). */
@ApiTags('webhooks')
@ApiSecurity('api-key')
@ApiResponse({ status: 401, type: ErrorDto, description: 'API_KEY is set and x-api-key is missing or wrong' })
@Controller('whatsapp-web')
export class WebhooksController {
  constructor(
    private readonly settings: WebhookSettingService,
    private readonly deliveries: WebhookDeliveriesService,
  ) {}

  @Put('session/:id/webhook')
  @ApiOperation({ summary: "Set the session's webhook (replaces the one it had)" })
  @ApiResponse({ status: 200, type: WebhookSettingDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  put(@Param() { id }: SessionParams, @Body() body: WebhookSettingBody): Promise<WebhookSettingView> {
    return this.settings.put(id, body);
  }

  @Get('session/:id/webhook')
  @ApiOperation({ summary: "The session's webhook" })
  @ApiResponse({ status: 200, type: WebhookSettingDto })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  get(@Param() { id }: SessionParams): Promise<WebhookSettingView> {
    return this.settings.get(id);
  }

  @Delete('session/:id/webhook')
  @ApiOperation({ summary: "Remove the session's webhook" })
  @ApiResponse({ status: 200, description: '`{sessionId, deleted: true}`' })
  @ApiResponse(BAD_INPUT)
  @ApiResponse(UNKNOWN)
  delete(@Param() { id }: SessionParams): Promise<{ sessionId: string; deleted: true }> {
    return this.settings.delete(id);
  }

  @Get('webhooks/deliveries')
  @ApiOperation({ summary: 'Webhook deliveries, newest first, paged' })
  @ApiResponse({ status: 200, type: WebhookDeliveryPageDto })
  @ApiResponse({ status: 400, type: ErrorDto, description: 'Bad status, sessionId, limit or cursor' })
  listDeliveries(@Query() query: DeliveriesQuery): Promise<WebhookDeliveryPage> {
    return this.deliveries.list(query);
  }

  @Post('webhooks/deliveries/:id/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Send a failed delivery again (its attempts count afresh)' })
  @ApiResponse({ status: 200, type: WebhookDeliveryDto })
  @ApiResponse({ status: 400, type: ErrorDto, description: 'Not a delivery id' })
  @ApiResponse({ status: 404, type: ErrorDto, description: 'Unknown delivery' })
  @ApiResponse({ status: 409, type: ErrorDto, description: 'The delivery is not failed' })
  retryDelivery(@Param() { id }: DeliveryParams): Promise<WebhookDeliveryView> {
    return this.deliveries.retry(id);
  }
}
