import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { DEFAULT_DELIVERY_PAGE_LIMIT, DeliveriesQuery } from './webhook-delivery.dto';
import { WebhookDeliveryRepository } from './webhook-delivery.repository';
import { WebhookWorker } from './webhook-worker.service';
import { WebhookDeliveryPage, WebhookDeliveryView, decodeDeliveryCursor, deliveryRowToView, encodeDeliveryCursor } from './webhook-delivery.view';

/** The outbox as operators see it: listed newest first, and a failed delivery sent again. */
@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly deliveries: WebhookDeliveryRepository,
    private readonly worker: WebhookWorker,
  ) {}

  async list({ status, sessionId, limit = DEFAULT_DELIVERY_PAGE_LIMIT, before }: DeliveriesQuery): Promise<WebhookDeliveryPage> {
    const beforeSeq = before === undefined ? null : decodeDeliveryCursor(before);
    if (before !== undefined && beforeSeq === null) throw new BadRequestException('before must be a nextCursor returned by a previous page');
    // One more than the page: whether there is a next page, without a second query.
    const rows = await this.deliveries.list(status ?? null, sessionId ?? null, beforeSeq, limit + 1);
    const page = rows.slice(0, limit);
    return { deliveries: page.map(deliveryRowToView), nextCursor: rows.length > limit ? encodeDeliveryCursor(page[page.length - 1].seq) : null };
  }

  /** 409 unless the delivery is `failed`: a pending one is on its way, a delivered one arrived. */
  async retry(id: string): Promise<WebhookDeliveryView> {
    const retried = await this.deliveries.retry(id);
    if (retried) {
      this.worker.wake();
      return deliveryRowToView(retried);
    }
    const existing = await this.deliveries.find(id);
    if (!existing) throw new NotFoundException(`Webhook delivery ${id} not found`);
    throw new ConflictException(`Webhook delivery ${id} is ${existing.status}: only a failed one can be retried`);
  }
}
