import { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-session webhook settings, gone with their session. */
export class WebhookSettings1764190000000 implements MigrationInterface {
  name = 'WebhookSettings1764190000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_settings (
        session_id varchar(64) PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
        url text NOT NULL,
        secret text NULL,
        events text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE webhook_settings');
  }
}
