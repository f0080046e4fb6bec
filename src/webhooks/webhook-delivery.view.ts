import { DeliveryRow, DeliveryStatus } from './webhook-delivery.repository';

/** A delivery as `GET /webhooks/deliveries` answers it: never its secret. */
export interface WebhookDeliveryView {
  id: string;
  sessionId: string;
  url: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  createdAt: string;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  payload: Record<string, unknown>;
}

export interface WebhookDeliveryPage {
  deliveries: WebhookDeliveryView[];
  nextCursor: string | null;
}

export function deliveryRowToView(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    sessionId: row.session_id,
    url: row.url,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at.toISOString(),
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    payload: row.payload,
  };
}

/** Opaque to clients: base64url of the last row's sequence number. */
export function encodeDeliveryCursor(seq: string): string {
  return Buffer.from(`d${seq}`).toString('base64url');
}

/** `null` for anything that is not a cursor we issued. */
export function decodeDeliveryCursor(value: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(value)) return null;
  const text = Buffer.from(value, 'base64url').toString('utf8');
  return /^d[1-9][0-9]{0,17}$/.test(text) ? text.slice(1) : null;
}
