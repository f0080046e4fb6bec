import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook outbox: one row per event and target URL, written in the transaction of the change it
 * reports, and every attempt to deliver it. `seq` orders the deliveries of one (session, URL); a
 * row taken by a worker carries `lease_until`, so that a worker that died gives it back.
 */
export class WebhookOutbox1764200000000 implements MigrationInterface {
  name = 'WebhookOutbox1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        session_id varchar(64) NOT NULL,
        url text NOT NULL,
        secret text NULL,
        event varchar(32) NOT NULL,
        payload jsonb NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz NULL,
        last_attempt_at timestamptz NULL,
        last_status_code integer NULL,
        last_error text NULL,
        delivered_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ix_webhook_deliveries_queue ON webhook_deliveries (session_id, url, seq) WHERE status = 'pending'`);
    await queryRunner.query('CREATE INDEX ix_webhook_deliveries_newest ON webhook_deliveries (seq DESC)');
    await queryRunner.query(`
      CREATE TABLE webhook_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL DEFAULT now(),
        status_code integer NULL,
        error text NULL,
        duration_ms integer NOT NULL
      )`);
    await queryRunner.query('CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id, id)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE webhook_attempts');
    await queryRunner.query('DROP TABLE webhook_deliveries');
  }
}
