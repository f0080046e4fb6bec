import { MigrationInterface, QueryRunner } from 'typeorm';

/** Zipped whatsapp-web.js logins for `WA_AUTH_STORE=postgres` (RemoteAuth), so any instance can restore them. */
export class WwebjsAuthSessions1764160000000 implements MigrationInterface {
  name = 'WwebjsAuthSessions1764160000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE wwebjs_auth_sessions (
        session text PRIMARY KEY,
        data bytea NOT NULL,
        size_bytes integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE wwebjs_auth_sessions`);
  }
}
