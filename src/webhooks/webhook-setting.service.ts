import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import { SessionService } from '../whatsapp/session/session.service';
import { WEBHOOK_EVENT_NAMES } from './webhook-rules';
import { WebhookSettingBody } from './webhook-setting.dto';
import { WebhookSettingRepository } from './webhook-setting.repository';
import { WebhookSettingView, webhookSettingToView } from './webhook-setting.view';

/** A session's own webhook: set, read, removed. The secret is stored, never answered nor logged. */
@Injectable()
export class WebhookSettingService {
  private readonly logger = new Logger(WebhookSettingService.name);

  constructor(
    private readonly sessions: SessionService,
    private readonly settings: WebhookSettingRepository,
  ) {}

  async put(sessionId: string, body: WebhookSettingBody): Promise<WebhookSettingView> {
    await this.sessions.assertKnown(sessionId);
    const events = body.events ?? [...WEBHOOK_EVENT_NAMES];
    const row = await this.settings.put(sessionId, body.url, body.secret ?? null, events);
    this.logger.log(`webhook set: ${new URL(row.url).origin}, ${events.length} events${row.secret ? ', signed' : ''}`, { sessionId });
    return webhookSettingToView(row);
  }

  async get(sessionId: string): Promise<WebhookSettingView> {
    await this.sessions.assertKnown(sessionId);
    const row = await this.settings.find(sessionId);
    if (!row) throw new NotFoundException(`Session ${sessionId} has no webhook of its own`);
    return webhookSettingToView(row);
  }

  async delete(sessionId: string): Promise<{ sessionId: string; deleted: true }> {
    await this.sessions.assertKnown(sessionId);
    if (!(await this.settings.delete(sessionId))) throw new NotFoundException(`Session ${sessionId} has no webhook of its own`);
    this.logger.log('webhook removed', { sessionId });
    return { sessionId, deleted: true };
  }
}
