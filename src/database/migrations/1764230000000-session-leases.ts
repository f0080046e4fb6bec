import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which instance runs each session: one row a session while an instance holds it. `generation`
 * grows with every claim, so that a write made under an older claim can be told apart and refused;
 * `expires_at` is by the database's clock, the one clock every instance shares. `host` and `pid`
 * let an instance restarted on the same machine take back at once what its dead predecessor held.
 */
export class SessionLeases1764230000000 implements MigrationInterface {
  name = 'SessionLeases1764230000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE session_leases (
        session_id text PRIMARY KEY,
        owner text NOT NULL,
        host text NOT NULL,
        pid integer NOT NULL,
        address text,
        generation bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query('CREATE INDEX ix_session_leases_owner ON session_leases (owner)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE session_leases');
  }
}
