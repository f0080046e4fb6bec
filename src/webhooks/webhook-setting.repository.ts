import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { WebhookSettingEntity } from '../database/entities/webhook-setting.entity';

/** Per-session webhook settings. */
@Injectable()
export class WebhookSettingRepository {
  constructor(@InjectRepository(WebhookSettingEntity) private readonly rows: Repository<WebhookSettingEntity>) {}

  find(sessionId: string): Promise<WebhookSettingEntity | null> {
    return this.rows.findOneBy({ sessionId });
  }

  /** Creates or replaces the session's setting; answers it as stored. */
  async put(sessionId: string, url: string, secret: string | null, events: string[]): Promise<WebhookSettingEntity> {
    await this.rows.upsert({ sessionId, url, secret, events }, ['sessionId']);
    return this.rows.findOneByOrFail({ sessionId });
  }

  /** Whether there was one. */
  async delete(sessionId: string): Promise<boolean> {
    const { affected } = await this.rows.delete({ sessionId });
    return (affected ?? 0) > 0;
  }
}
