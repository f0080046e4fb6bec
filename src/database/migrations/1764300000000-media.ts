import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Media: one row a message with media (its download's status, attempts, next attempt and lease: the
 * queue, whose `lease_token` fences the writes of the attempt that holds it), and the PostgreSQL store's content, one row per SHA-256 so that a forwarded file is kept once.
 */
export class Media1764300000000 implements MigrationInterface {
  name = 'Media1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE message_media (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id varchar(64) NOT NULL,
        message_id text NOT NULL,
        chat_id text NOT NULL,
        status varchar(16) NOT NULL DEFAULT 'pending',
        mimetype text NULL,
        filename text NULL,
        size bigint NULL,
        sha256 char(64) NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz NULL,
        lease_token uuid NULL,
        error text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT uq_message_media_session_message UNIQUE (session_id, message_id),
        CONSTRAINT ck_message_media_status CHECK (status IN ('pending', 'stored', 'failed', 'too_large', 'expired'))
      )`);
    await queryRunner.query(`CREATE INDEX ix_message_media_queue ON message_media (next_attempt_at, id) WHERE status = 'pending'`);
    await queryRunner.query('CREATE INDEX ix_message_media_sha256 ON message_media (sha256) WHERE sha256 IS NOT NULL');
    await queryRunner.query(`
      CREATE TABLE media_blobs (
        sha256 char(64) PRIMARY KEY,
        size bigint NOT NULL,
        data bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Bytes that are compressed already (images, audio, video) are not worth compressing again.
    await queryRunner.query('ALTER TABLE media_blobs ALTER COLUMN data SET STORAGE EXTERNAL');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE media_blobs');
    await queryRunner.query('DROP TABLE message_media');
  }
}
