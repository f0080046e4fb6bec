import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** A delivery row as the worker and the listing read it. */
export interface DeliveryRow {
  id: string;
  seq: string;
  session_id: string;
  url: string;
  secret: string | null;
  event: string;
  payload: Record<string, unknown>;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The global webhook as the outbox's insert needs it. */
export interface GlobalTarget {
  url: string;
  secret: string | null;
  events: string[];
}

/**
 * One row per target of the event: the session's own setting when it has one, else the global
 * webhook; only when the target carries the event.
 */
const TARGETS_SQL = `
  SELECT s.url, s.secret, s.events FROM webhook_settings s WHERE s.session_id = $1::text
  UNION ALL
  SELECT $4::text, $5::text, $6::text[]
  WHERE $4::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM webhook_settings s WHERE s.session_id = $1::text)`;

const ENQUEUE_SQL = `
  INSERT INTO webhook_deliveries (session_id, url, secret, event, payload)
  SELECT $1::text, t.url, t.secret, $2::text, $3::jsonb
  FROM (${TARGETS_SQL}) t
  WHERE $2::text = ANY (t.events)`;

/** ENQUEUE_SQL for each payload of the JSON array `$3`, in its order (the sequence numbers follow it). */
const ENQUEUE_ALL_SQL = `
  INSERT INTO webhook_deliveries (session_id, url, secret, event, payload)
  SELECT $1::text, t.url, t.secret, $2::text, p.payload
  FROM (${TARGETS_SQL}) t CROSS JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS p(payload, n)
  WHERE $2::text = ANY (t.events)
  ORDER BY t.url, p.n`;

/**
 * The head (lowest `seq` pending) of every (session, URL) queue, found by jumping from queue to
 * queue on ix_webhook_deliveries_queue: one index probe a queue, however long the backlogs (a
 * `DISTINCT ON` would read every pending row, at every look).
 */
const HEADS_SQL = `
  WITH RECURSIVE queues AS (
    (SELECT session_id, url, seq FROM webhook_deliveries WHERE status = 'pending' ORDER BY session_id, url, seq LIMIT 1)
    UNION ALL
    SELECT n.session_id, n.url, n.seq FROM queues q CROSS JOIN LATERAL (
      SELECT session_id, url, seq FROM webhook_deliveries
      WHERE status = 'pending' AND (session_id, url) > (q.session_id, q.url)
      ORDER BY session_id, url, seq LIMIT 1
    ) n
  )`;

/** The deliveries in flight of the queue of `d` (ix_webhook_deliveries_leased: a lease that ran out does not count). */
const IN_FLIGHT_OF_QUEUE_SQL = `FROM webhook_deliveries o
  WHERE o.session_id = d.session_id AND o.url = d.url AND o.status = 'pending' AND o.lease_until IS NOT NULL AND o.lease_until >= now()`;
const QUEUE_BUSY_SQL = `EXISTS (SELECT 1 ${IN_FLIGHT_OF_QUEUE_SQL})`;

/**
 * The heads that may go now: due, and no delivery of their queue in flight (a retried one that
 * went back to the head while a later one was being sent, say). At most `$1` of them, oldest first,
 * locked so that no other worker (of this or another instance) takes the same, and leased for `$2`
 * ms. Each queue goes one at a time, in event order.
 */
const CLAIM_SQL = `
  ${HEADS_SQL}, claimed AS (
    SELECT d.id FROM webhook_deliveries d
    WHERE d.seq = ANY (ARRAY(SELECT seq FROM queues)) AND d.status = 'pending' AND d.next_attempt_at <= now()
      -- The row's own lease, checked on its columns: when another worker claimed it meanwhile, the
      -- locked row is re-checked on its new version (a subquery would still see the old snapshot).
      AND (d.lease_until IS NULL OR d.lease_until < now())
      AND NOT ${QUEUE_BUSY_SQL}
    ORDER BY d.seq LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
  )
  UPDATE webhook_deliveries d
  SET lease_until = now() + $2::int * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
  FROM claimed WHERE d.id = claimed.id
  RETURNING d.*`;

/**
 * When the first queue that cannot send now may send: its head due, and its delivery in flight
 * ended or its lease run out. Rows behind a head do not count: they wait for it.
 */
const NEXT_CHANCE_SQL = `
  ${HEADS_SQL}
  SELECT min(GREATEST(d.next_attempt_at, COALESCE((SELECT max(o.lease_until) ${IN_FLIGHT_OF_QUEUE_SQL}), d.next_attempt_at))) AS at
  FROM webhook_deliveries d WHERE d.seq = ANY (ARRAY(SELECT seq FROM queues))`;

/**
 * An attempt's outcome, recorded with the attempt, by the worker that holds the lease (`attempts`
 * as it claimed it): delivered, or pending again after `$7` ms, or failed once `$6` attempts ran out.
 * `$9`: the attempt was cut short by a shutdown; it does not count, and the delivery is due at once.
 * Nothing is written for a delivery deleted meanwhile (a purge).
 *
 * With `$10`, once the delivery left its queue (delivered or failed), the queue's next delivery is
 * claimed in the same statement when it is due (leased for `$11` ms, as CLAIM_SQL does): a busy
 * queue costs one statement per delivery. (`next` sees the table as it was before `done`, where the
 * finished delivery is still pending: it is left out by its id.)
 */
const FINISH_SQL = `
  WITH done AS (
    UPDATE webhook_deliveries SET
      status = CASE WHEN $5::boolean THEN 'delivered' WHEN NOT $9::boolean AND attempts >= $6::int THEN 'failed' ELSE 'pending' END,
      delivered_at = CASE WHEN $5::boolean THEN now() END,
      attempts = CASE WHEN $9::boolean AND NOT $5::boolean THEN attempts - 1 ELSE attempts END,
      next_attempt_at = CASE WHEN $5::boolean THEN next_attempt_at WHEN $9::boolean THEN now() ELSE now() + $7::int * interval '1 millisecond' END,
      lease_until = NULL, last_status_code = $2, last_error = $3
    WHERE id = $1 AND attempts = $8 AND status = 'pending'
    RETURNING id, status, session_id, url
  ), attempt AS (
    INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms) SELECT id, $2, $3, $4 FROM done
  ), next AS (
    -- The queue as parameters ($12, $13), not a join with done: the index scan then comes in seq
    -- order and stops at the first row (a join made it read and sort the whole backlog).
    -- Not locked here: a SKIP LOCKED would pass over a head another statement holds (a purge's
    -- delete) and take the one after it. The update below locks the head, or finds it gone or taken.
    SELECT n.id FROM webhook_deliveries n
    WHERE $10::boolean AND n.session_id = $12 AND n.url = $13 AND n.status = 'pending' AND n.id <> $1
      AND EXISTS (SELECT 1 FROM done WHERE done.status <> 'pending')
    ORDER BY n.seq LIMIT 1
  ), claimed AS (
    UPDATE webhook_deliveries d
    SET lease_until = now() + $11::int * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
    FROM next WHERE d.id = next.id AND d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
    RETURNING d.*
  )
  SELECT done.status AS finished, c.* FROM done LEFT JOIN claimed c ON true`;

const LIST_SQL = `
  SELECT * FROM webhook_deliveries
  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR session_id = $2) AND ($3::bigint IS NULL OR seq < $3)
  ORDER BY seq DESC LIMIT $4`;

/** Webhook deliveries and their attempts. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Writes the event for each of its targets, in `manager`'s transaction; answers how many rows. */
  async enqueue(manager: EntityManager, sessionId: string, event: string, payloadJson: string, global: GlobalTarget | null): Promise<number> {
    const rows = (await manager.query(`${ENQUEUE_SQL} RETURNING 1`, [sessionId, event, payloadJson, global?.url ?? null, global?.secret ?? null, global?.events ?? null])) as unknown[];
    return rows.length;
  }

  /** `enqueue` of each payload of the JSON array `payloadsJson`, in its order. */
  async enqueueAll(manager: EntityManager, sessionId: string, event: string, payloadsJson: string, global: GlobalTarget | null): Promise<number> {
    const rows = (await manager.query(`${ENQUEUE_ALL_SQL} RETURNING 1`, [sessionId, event, payloadsJson, global?.url ?? null, global?.secret ?? null, global?.events ?? null])) as unknown[];
    return rows.length;
  }

  /** The session's deliveries that carry a message (`message`, `message_update`), whatever their status; their attempts go with them. */
  async deleteMessageEvents(manager: EntityManager, sessionId: string): Promise<void> {
    await manager.query(`DELETE FROM webhook_deliveries WHERE session_id = $1 AND event IN ('message', 'message_update')`, [sessionId]);
  }

  /** When the first pending delivery that cannot be taken now may be taken (due, lease run out); `null`: none pending. */
  async nextChance(): Promise<Date | null> {
    const [row] = (await this.dataSource.query(NEXT_CHANCE_SQL)) as [{ at: Date | null }];
    return row.at;
  }

  async claim(limit: number, leaseMs: number): Promise<DeliveryRow[]> {
    const [rows] = (await this.dataSource.query(CLAIM_SQL, [limit, leaseMs])) as [DeliveryRow[], number];
    return rows;
  }

  /**
   * The status the delivery has after this attempt (`null` when this worker no longer held it), and
   * with `leaseNextMs`, the queue's next delivery, claimed, when it may go now.
   */
  async finish(
    delivery: Pick<DeliveryRow, 'id' | 'attempts' | 'session_id' | 'url'>,
    outcome: { delivered: boolean; statusCode: number | null; error: string | null; durationMs: number; interrupted: boolean },
    maxAttempts: number,
    retryInMs: number,
    leaseNextMs: number | null,
  ): Promise<{ status: DeliveryStatus | null; next: DeliveryRow | null }> {
    const rows = (await this.dataSource.query(FINISH_SQL, [
      delivery.id,
      outcome.statusCode,
      outcome.error,
      outcome.durationMs,
      outcome.delivered,
      maxAttempts,
      retryInMs,
      delivery.attempts,
      outcome.interrupted,
      leaseNextMs !== null,
      leaseNextMs ?? 0,
      delivery.session_id,
      delivery.url,
    ])) as Array<DeliveryRow & { finished: DeliveryStatus }>;
    const [row] = rows;
    if (!row) return { status: null, next: null };
    const { finished, ...next } = row;
    return { status: finished, next: next.id ? next : null };
  }

  /** Newest first, strictly before `beforeSeq`. */
  list(status: DeliveryStatus | null, sessionId: string | null, beforeSeq: string | null, limit: number): Promise<DeliveryRow[]> {
    return this.dataSource.query(LIST_SQL, [status, sessionId, beforeSeq, limit]);
  }

  find(id: string): Promise<DeliveryRow | null> {
    return this.dataSource.query('SELECT * FROM webhook_deliveries WHERE id = $1', [id]).then((rows: DeliveryRow[]) => rows[0] ?? null);
  }

  /** A failed delivery made pending again, due now, with its attempts counted afresh; `null` when it was not failed. */
  async retry(id: string): Promise<DeliveryRow | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL
       WHERE id = $1 AND status = 'failed' RETURNING *`,
      [id],
    )) as [DeliveryRow[], number];
    return rows[0] ?? null;
  }

  /** Pending deliveries, and the age in seconds of the oldest (0 when none). */
  async backlog(): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM webhook_deliveries WHERE status = 'pending'`,
    )) as [{ pending: number; oldest: number }];
    return { pending: row.pending, oldestSeconds: row.oldest };
  }
}
