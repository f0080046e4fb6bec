import { WebhookSettingEntity } from '../database/entities/webhook-setting.entity';
import { WebhookEventName } from './webhook-rules';

/** A session's webhook setting as answered: never its secret. */
export interface WebhookSettingView {
  sessionId: string;
  url: string;
  events: WebhookEventName[];
  hasSecret: boolean;
  createdAt: string;
  updatedAt: string;
}

export function webhookSettingToView(row: WebhookSettingEntity): WebhookSettingView {
  return {
    sessionId: row.sessionId,
    url: row.url,
    events: row.events as WebhookEventName[],
    hasSecret: row.secret !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
