import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { pgSafeJson } from '../whatsapp/storage/pg-safe';
import { EventOutbox } from '../whatsapp/event-outbox';
import { DurableEventName, DurableEvents } from '../whatsapp/events';
import { GlobalTarget, WebhookDeliveryRepository } from './webhook-delivery.repository';

/**
 * The outbox the services write to, in their transactions: one delivery row per webhook that
 * carries the event (the session's own setting, else `WEBHOOK_URL`), none when no webhook does.
 */
@Injectable()
export class WebhookOutbox implements EventOutbox {
  private readonly global: GlobalTarget | null;

  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'webhook'>,
  ) {
    this.global = config.webhook ? { url: config.webhook.url, secret: config.webhook.secret ?? null, events: config.webhook.events } : null;
  }

  /** Set when a row was written since the worker last looked: the next published event wakes it. */
  written = false;

  async record<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payload: DurableEvents[E]): Promise<void> {
    if ((await this.deliveries.enqueue(manager, sessionId, event, pgSafeJson(payload), this.global)) > 0) this.written = true;
  }

  async forgetMessages(manager: EntityManager, sessionId: string): Promise<void> {
    await this.deliveries.deleteMessageEvents(manager, sessionId);
  }

  async recordAll<E extends DurableEventName>(manager: EntityManager, sessionId: string, event: E, payloads: readonly DurableEvents[E][]): Promise<void> {
    if (payloads.length === 0) return;
    if ((await this.deliveries.enqueueAll(manager, sessionId, event, pgSafeJson(payloads), this.global)) > 0) this.written = true;
  }
}
