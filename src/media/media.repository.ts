import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { MediaJob, MediaStatus, MediaView } from './media.types';

/** The outcome of an attempt as it is written: a final status, or back to the queue after `delayMs`. */
export type MediaWrite =
  | { status: 'stored'; sha256: string; size: number; mimetype: string; filename: string | null }
  | { status: 'too_large'; size: number; error: string }
  | { status: 'expired'; error: string }
  | { status: 'failed'; error: string }
  | { status: 'pending'; error: string; delayMs: number };

interface MediaRow {
  message_id: string;
  status: MediaStatus;
  mimetype: string | null;
  filename: string | null;
  size: string | null;
  sha256: string | null;
  error: string | null;
}

interface JobRow {
  id: string;
  session_id: string;
  message_id: string;
  chat_id: string;
  mimetype: string | null;
  filename: string | null;
  size: string | null;
  attempts: number;
  lease_token: string;
}

/** What WhatsApp announces of a message's media (whatsapp-web.js's raw `mimetype`, `filename`, `size`). */
const ANNOUNCED = `NULLIF(m.raw->>'mimetype', ''), NULLIF(m.raw->>'filename', ''),
  CASE WHEN m.raw->>'size' ~ '^[0-9]{1,15}$' THEN (m.raw->>'size')::bigint END`;

/** `$1` session, `$2` message ids: a pending row for each stored message of them that has media and none yet. */
const ENQUEUE_SQL = `
  INSERT INTO message_media (session_id, message_id, chat_id, mimetype, filename, size)
  SELECT m.session_id, m.wa_id, m.chat_id, ${ANNOUNCED}
  FROM messages m WHERE m.session_id = $1 AND m.wa_id = ANY($2::text[]) AND m.has_media AND NOT m.revoked
  ON CONFLICT (session_id, message_id) DO NOTHING
  RETURNING 1`;

const JOB_COLUMNS = 'm.id, m.session_id, m.message_id, m.chat_id, m.mimetype, m.filename, m.size, m.attempts, m.lease_token';

/**
 * `$1` the sessions this process can download for, `$2` the lease (ms): the next pending row due, not
 * held by a live lease, that no other transaction is claiming (SKIP LOCKED: instances never wait on
 * one another nor take the same row).
 */
const CLAIM_SQL = `
  WITH next AS (
    SELECT id FROM message_media
    WHERE status = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now()) AND session_id = ANY($1::text[])
    ORDER BY next_attempt_at, id LIMIT 1
    FOR UPDATE SKIP LOCKED
  )
  UPDATE message_media m SET attempts = m.attempts + 1, leased_until = now() + $2::integer * interval '1 millisecond',
    lease_token = gen_random_uuid(), updated_at = now()
  FROM next WHERE m.id = next.id
  RETURNING ${JOB_COLUMNS}`;

/**
 * `$1` session, `$2` message: a download now (POST), whatever the row's status and lease: the row is
 * created when missing (the message must have media), its lease taken over. An attempt that held it
 * can write nothing more.
 */
const TAKE_NOW_SQL = `
  INSERT INTO message_media AS mm (session_id, message_id, chat_id, mimetype, filename, size, attempts, leased_until, lease_token)
  SELECT m.session_id, m.wa_id, m.chat_id, ${ANNOUNCED}, 1, now() + $3::integer * interval '1 millisecond', gen_random_uuid()
  FROM messages m WHERE m.session_id = $1 AND m.wa_id = $2 AND m.has_media
  ON CONFLICT (session_id, message_id) DO UPDATE SET attempts = 1, leased_until = EXCLUDED.leased_until,
    lease_token = EXCLUDED.lease_token, updated_at = now()
  RETURNING ${JOB_COLUMNS.replace(/m\./g, 'mm.')}`;

/**
 * `$1` row, `$2` lease token, then the outcome. Nothing is written when the lease was taken over.
 * Stored bytes stay stored: a later attempt that got none (POST again, WhatsApp has forgotten them)
 * records its error only. Answers the status before and after.
 */
const FINISH_SQL = `
  WITH old AS (SELECT id, status, sha256 FROM message_media WHERE id = $1 AND lease_token = $2 FOR UPDATE)
  UPDATE message_media m SET
    status = CASE WHEN old.status = 'stored' AND $3::text <> 'stored' THEN 'stored' ELSE $3::text END,
    sha256 = CASE WHEN $3::text = 'stored' THEN $4::char(64) ELSE m.sha256 END,
    size = CASE WHEN old.status = 'stored' AND $3::text <> 'stored' THEN m.size ELSE COALESCE($5::bigint, m.size) END,
    mimetype = CASE WHEN $3::text = 'stored' THEN $6::text ELSE m.mimetype END,
    filename = CASE WHEN $3::text = 'stored' THEN $7::text ELSE m.filename END,
    error = $8::text,
    next_attempt_at = now() + COALESCE($9::integer, 0) * interval '1 millisecond',
    leased_until = NULL, lease_token = NULL, updated_at = now()
  FROM old WHERE m.id = old.id
  RETURNING old.status AS before, m.status AS after, old.sha256 IS DISTINCT FROM m.sha256 AS new_bytes`;

/** The queue of downloads and each message's media (table `message_media`). */
@Injectable()
export class MediaRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** For statements outside a transaction of the caller's. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /** Queues the media of these stored messages (those with media and no row yet); answers how many it queued. */
  async enqueue(manager: EntityManager, sessionId: string, messageIds: readonly string[]): Promise<number> {
    if (messageIds.length === 0) return 0;
    const rows = (await manager.query(ENQUEUE_SQL, [sessionId, messageIds])) as unknown[];
    return rows.length;
  }

  /** The next download due among `sessionIds`, leased to this process for `leaseMs`, or `null`. */
  async claim(sessionIds: readonly string[], leaseMs: number): Promise<MediaJob | null> {
    if (sessionIds.length === 0) return null;
    const [rows] = (await this.dataSource.query(CLAIM_SQL, [sessionIds, leaseMs])) as [JobRow[], number];
    return rows[0] ? toJob(rows[0]) : null;
  }

  /** The lease of a message's media, taken now (see TAKE_NOW_SQL); `null` when the message is not stored or has no media. */
  async takeNow(sessionId: string, messageId: string, leaseMs: number): Promise<MediaJob | null> {
    const rows = (await this.dataSource.query(TAKE_NOW_SQL, [sessionId, messageId, leaseMs])) as JobRow[];
    return rows[0] ? toJob(rows[0]) : null;
  }

  /** Extends a lease still held; answers whether it was. */
  async renew(job: MediaJob, leaseMs: number): Promise<boolean> {
    const [, count] = (await this.dataSource.query(
      `UPDATE message_media SET leased_until = now() + $3::integer * interval '1 millisecond' WHERE id = $1 AND lease_token = $2`,
      [job.id, job.leaseToken, leaseMs],
    )) as [unknown, number];
    return count > 0;
  }

  /** Gives a lease back untried (a shutdown): the row is due again at once, the attempt not counted. */
  async release(job: MediaJob): Promise<void> {
    await this.dataSource.query(
      `UPDATE message_media SET leased_until = NULL, lease_token = NULL, attempts = GREATEST(attempts - 1, 0), next_attempt_at = now() WHERE id = $1 AND lease_token = $2`,
      [job.id, job.leaseToken],
    );
  }

  /** Writes an attempt's outcome; answers whether the status (or the stored bytes) changed, `null` when the lease was lost. */
  async finish(manager: EntityManager, job: MediaJob, write: MediaWrite): Promise<{ changed: boolean } | null> {
    const stored = write.status === 'stored' ? write : undefined;
    const size = stored ? stored.size : write.status === 'too_large' ? write.size : null;
    const error = write.status === 'stored' ? null : write.error;
    const delayMs = write.status === 'pending' ? write.delayMs : null;
    const [rows] = (await manager.query(FINISH_SQL, [job.id, job.leaseToken, write.status, stored?.sha256 ?? null, size, stored?.mimetype ?? null, stored?.filename ?? null, error, delayMs])) as [
      Array<{ before: MediaStatus; after: MediaStatus; new_bytes: boolean }>,
      number,
    ];
    const row = rows[0];
    if (!row) return null;
    return { changed: row.before !== row.after || row.new_bytes };
  }

  /** The media of these messages (ids as stored), by message id; messages without a row have no entry. */
  async viewsOf(sessionId: string, messageIds: readonly string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, MediaView>> {
    if (messageIds.length === 0) return new Map();
    const rows = (await manager.query(
      'SELECT message_id, status, mimetype, filename, size, sha256, error FROM message_media WHERE session_id = $1 AND message_id = ANY($2::text[])',
      [sessionId, messageIds],
    )) as MediaRow[];
    return new Map(rows.map((row) => [row.message_id, toView(row)]));
  }

  /** A purge: the session's rows go; answers the SHA-256 of stored objects no other row refers to any more. */
  async deleteSession(manager: EntityManager, sessionId: string): Promise<string[]> {
    const rows = (await manager.query(
      `WITH gone AS (DELETE FROM message_media WHERE session_id = $1 RETURNING sha256)
       SELECT DISTINCT g.sha256 FROM gone g
       WHERE g.sha256 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM message_media o WHERE o.sha256 = g.sha256 AND o.session_id <> $1)`,
      [sessionId],
    )) as Array<{ sha256: string }>;
    return rows.map((row) => row.sha256);
  }

  /** Whether any row still refers to the object (a purge checks again before deleting it). */
  async isReferenced(sha256: string): Promise<boolean> {
    const rows = (await this.dataSource.query('SELECT 1 FROM message_media WHERE sha256 = $1 LIMIT 1', [sha256])) as unknown[];
    return rows.length > 0;
  }
}

function toJob(row: JobRow): MediaJob {
  return {
    id: Number(row.id),
    sessionId: row.session_id,
    messageId: row.message_id,
    chatId: row.chat_id,
    mimetype: row.mimetype,
    filename: row.filename,
    size: row.size === null ? null : Number(row.size),
    attempts: row.attempts,
    leaseToken: row.lease_token,
  };
}

function toView(row: MediaRow): MediaView {
  return { status: row.status, mimetype: row.mimetype, filename: row.filename, size: row.size === null ? null : Number(row.size), sha256: row.sha256, error: row.error };
}
