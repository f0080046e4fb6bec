import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** Who claims: the owner's name, where it runs, and where the others reach it. */
export interface Claimant {
  owner: string;
  host: string;
  pid: number;
  address: string | null;
}

/** A lease as stored, with whether it still runs by the database's clock. */
export interface LeaseRow {
  sessionId: string;
  owner: string;
  host: string;
  pid: number;
  address: string | null;
  generation: number;
  live: boolean;
  /** Milliseconds until it expires, by the database's clock (negative once expired). */
  expiresInMs: number;
}

/** A held lease: the generation that fences the holder's writes. */
export interface HeldLease {
  sessionId: string;
  generation: number;
}

const MS = "* interval '1 millisecond'";

/**
 * Claims a free, expired or own lease, or one whose holder is named in `$6` (a dead predecessor on
 * this host): one statement, so that of two instances claiming at once exactly one wins. Every claim
 * is a new generation, even by the same owner: a write of the claim before it is refused.
 */
const CLAIM_SQL = `
  INSERT INTO session_leases AS l (session_id, owner, host, pid, address, generation, expires_at)
  VALUES ($1, $2, $3, $4, $5, 1, now() + $7::int ${MS})
  ON CONFLICT (session_id) DO UPDATE SET
    owner = EXCLUDED.owner, host = EXCLUDED.host, pid = EXCLUDED.pid, address = EXCLUDED.address,
    generation = l.generation + 1, expires_at = EXCLUDED.expires_at, claimed_at = now()
  WHERE l.owner = EXCLUDED.owner OR l.expires_at <= now() OR l.owner = ANY($6::text[])
  RETURNING generation::int AS generation`;

/** Renews the leases still held (owner and generation unchanged, not expired); answers their ids. */
const RENEW_SQL = `
  UPDATE session_leases l SET expires_at = now() + $2::int ${MS}, address = $3
  FROM unnest($4::text[], $5::bigint[]) AS h(session_id, generation)
  WHERE l.session_id = h.session_id AND l.generation = h.generation AND l.owner = $1 AND l.expires_at > now()
  RETURNING l.session_id`;

const ROW_COLUMNS = `session_id AS "sessionId", owner, host, pid, address, generation::int AS generation, (expires_at > now()) AS live,
  (extract(epoch FROM expires_at - now()) * 1000)::float8 AS "expiresInMs"`;

/**
 * Session leases in PostgreSQL (see the migration 1764230000000-session-leases): who runs each
 * session. Every statement decides by the database's clock, never an instance's own.
 */
@Injectable()
export class LeaseRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The new generation, or `null` when another live instance holds the lease. */
  async claim(sessionId: string, claimant: Claimant, ttlMs: number, deadOwners: readonly string[]): Promise<number | null> {
    const rows = (await this.dataSource.query(CLAIM_SQL, [sessionId, claimant.owner, claimant.host, claimant.pid, claimant.address, [...deadOwners], ttlMs])) as Array<{ generation: number }>;
    return rows[0]?.generation ?? null;
  }

  /** The ids of `held` that are still this owner's, now renewed for `ttlMs`. */
  async renew(owner: string, held: readonly HeldLease[], ttlMs: number, address: string | null): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    // TypeORM answers an UPDATE as [rows, count].
    const [rows] = (await this.dataSource.query(RENEW_SQL, [owner, ttlMs, address, held.map((h) => h.sessionId), held.map((h) => h.generation)])) as [Array<{ session_id: string }>, number];
    return new Set(rows.map((row) => row.session_id));
  }

  find(sessionId: string): Promise<LeaseRow | null> {
    return this.dataSource.query(`SELECT ${ROW_COLUMNS} FROM session_leases WHERE session_id = $1`, [sessionId]).then((rows: LeaseRow[]) => rows[0] ?? null);
  }

  /** Every lease, live or expired. */
  all(): Promise<LeaseRow[]> {
    return this.dataSource.query(`SELECT ${ROW_COLUMNS} FROM session_leases ORDER BY session_id`);
  }

  /** Gives a lease up: nobody runs the session (stopped, deleted). */
  async drop(sessionId: string, owner: string, generation: number): Promise<void> {
    await this.dataSource.query('DELETE FROM session_leases WHERE session_id = $1 AND owner = $2 AND generation = $3', [sessionId, owner, generation]);
  }

  /** Drops the lease as it was read (`generation`), unless it changed since. */
  async dropGeneration(sessionId: string, generation: number): Promise<void> {
    await this.dataSource.query('DELETE FROM session_leases WHERE session_id = $1 AND generation = $2', [sessionId, generation]);
  }

  /** Ends the leases now but keeps them, so that another instance takes the sessions over at once (a shutdown). */
  async expire(owner: string, held: readonly HeldLease[]): Promise<void> {
    if (held.length === 0) return;
    await this.dataSource.query(
      `UPDATE session_leases l SET expires_at = now() FROM unnest($2::text[], $3::bigint[]) AS h(session_id, generation)
       WHERE l.session_id = h.session_id AND l.generation = h.generation AND l.owner = $1`,
      [owner, held.map((h) => h.sessionId), held.map((h) => h.generation)],
    );
  }

  /**
   * Inside a write transaction: whether this owner still holds the lease at this generation. The row
   * stays locked (FOR SHARE) until the transaction ends, so that a claim by another instance waits for
   * the write, and every write after the claim sees the new generation and is refused.
   */
  async stillHeld(manager: EntityManager, sessionId: string, owner: string, generation: number): Promise<boolean> {
    const rows = (await manager.query('SELECT 1 FROM session_leases WHERE session_id = $1 AND owner = $2 AND generation = $3 AND expires_at > now() FOR SHARE', [sessionId, owner, generation])) as unknown[];
    return rows.length > 0;
  }
}
