import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The deliveries in flight, by queue: few rows, so that "does this queue have a delivery in flight"
 * is one probe however long the queue's backlog.
 */
export class WebhookLeasedIndex1764210000000 implements MigrationInterface {
  name = 'WebhookLeasedIndex1764210000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX ix_webhook_deliveries_leased ON webhook_deliveries (session_id, url) WHERE status = 'pending' AND lease_until IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX ix_webhook_deliveries_leased');
  }
}
