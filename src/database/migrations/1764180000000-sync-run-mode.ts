import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sync modes and catch-up: what kind of run a row is (`mode`, `trigger`, the one chat of a one-chat
 * sync) and the counts an incremental run adds, with the calls into WhatsApp it made. Rows from before are full runs started by the API.
 */
export class SyncRunMode1764180000000 implements MigrationInterface {
  name = 'SyncRunMode1764180000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sync_runs
        ADD COLUMN mode varchar(16) NOT NULL DEFAULT 'full',
        ADD COLUMN trigger varchar(16) NOT NULL DEFAULT 'api',
        ADD COLUMN chat_id text NULL,
        ADD COLUMN chats_skipped integer NOT NULL DEFAULT 0,
        ADD COLUMN chats_with_gap integer NOT NULL DEFAULT 0,
        ADD COLUMN messages_inserted bigint NOT NULL DEFAULT 0,
        ADD COLUMN fetch_calls integer NOT NULL DEFAULT 0`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sync_runs
        DROP COLUMN mode, DROP COLUMN trigger, DROP COLUMN chat_id,
        DROP COLUMN chats_skipped, DROP COLUMN chats_with_gap, DROP COLUMN messages_inserted, DROP COLUMN fetch_calls`);
  }
}
