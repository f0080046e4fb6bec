import { Column, Entity, PrimaryColumn } from 'typeorm';
import { Timestamped } from './timestamped';

/**
 * A session's own webhook (`PUT /session/:id/webhook`); removed with its session (foreign key, on
 * delete cascade). The secret is kept to sign deliveries and never answered.
 */
@Entity({ name: 'webhook_settings' })
export class WebhookSettingEntity extends Timestamped {
  @PrimaryColumn({ name: 'session_id', type: 'varchar', length: 64 })
  sessionId: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ type: 'text', nullable: true })
  secret: string | null;

  @Column({ type: 'text', array: true })
  events: string[];
}
