import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery } from '../database/prepared-query';
import type { SendOutcome } from './webhook-sender';

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
  /** As claimed or leased: `last_attempt_at` before the lease, put back if the row is given back unsent. */
  previous_attempt_at?: Date | null;
}

/** What a queue's run asks of SETTLE_SQL (see there). */
export interface SettleRequest {
  /** Attempts that ended, in the order they were made. */
  outcomes: Array<{ row: DeliveryRow; sent: SendOutcome; retryMs: number }>;
  /** Rows this worker holds leased and has not sent. */
  held: DeliveryRow[];
  /** The id of the row being sent now, if any. */
  sending: string | null;
  /** How many rows the run may hold after this statement (0: give every held row back). */
  want: number;
  renew: boolean;
}

/** The statuses written for `outcomes` (a row missing: no longer this worker's), and the queue's run in order. */
export interface SettleAnswer {
  finished: Map<string, DeliveryStatus>;
  /** `leased`: the row, leased by this statement; `null`: held already, or not obtained. */
  run: Array<{ id: string; leased: DeliveryRow | null }>;
}

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The key of a (session, URL) queue, as the outbox and the worker name it. */
export const queueKey = (sessionId: string, url: string): string => `${sessionId}\n${url}`;

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
    SELECT d.id, d.last_attempt_at FROM webhook_deliveries d
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
  RETURNING d.*, claimed.last_attempt_at AS previous_attempt_at`;

/**
 * When the first queue that cannot send now may send: its head due, and its delivery in flight
 * ended or its lease run out. Rows behind a head do not count: they wait for it.
 */
const NEXT_CHANCE_SQL = `
  ${HEADS_SQL}
  SELECT min(GREATEST(d.next_attempt_at, COALESCE((SELECT max(o.lease_until) ${IN_FLIGHT_OF_QUEUE_SQL}), d.next_attempt_at))) AS at
  FROM webhook_deliveries d WHERE d.seq = ANY (ARRAY(SELECT seq FROM queues))`;

/**
 * What one statement of a queue's run (see WebhookQueueRun) does, by the worker that holds the
 * queue's leases:
 * 1. records the attempts that ended (`$1`, in the order they were made; each by the `attempts` it
 *    was leased with): delivered, or pending again after its `retry_ms`, or failed once `$3`
 *    attempts ran out; one cut short by a shutdown (`interrupted`) does not count and is due at
 *    once. Nothing is written for a delivery deleted meanwhile (a purge), or leased by another
 *    worker since (its lease ran out).
 * 2. finds the queue's run: its first pending deliveries in `seq` order, at most `$6`, as long as
 *    each may go now (due, and not leased, or leased by this worker: `$2`, the rows it holds and has
 *    not sent). Those finished in 1 are left out (the snapshot still has them pending), and so is
 *    the one being sent (`$9`); one recorded in 1 that stays pending (its back-off), or one another
 *    worker holds, ends the run.
 * 3. leases the run's rows this worker did not hold (`$7` ms, an attempt counted, as CLAIM_SQL does),
 *    renews those it held when `$8`, and gives back those it held that are no longer in the run (the
 *    attempt they were counted for was not made: the count and `last_attempt_at` are restored).
 *
 * Answers one row per run row in order (`run_id`; the row's columns when leased now, NULLs when
 * held already, or not obtained: another statement changed it meanwhile), each with `finished`, the
 * statuses written in 1 (a JSON array); one row with a NULL `run_id` when the run is empty.
 * A queue's run costs one statement per batch of finished attempts.
 */
const SETTLE_SQL = `
  WITH o AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(n int, id uuid, attempts int, delivered boolean, status_code int, error text, duration_ms int, interrupted boolean, retry_ms int)
  ), held AS (
    SELECT * FROM jsonb_to_recordset($2::jsonb) AS h(id uuid, attempts int, previous_attempt_at timestamptz)
  ), done AS (
    UPDATE webhook_deliveries d SET
      status = CASE WHEN o.delivered THEN 'delivered' WHEN NOT o.interrupted AND d.attempts >= $3::int THEN 'failed' ELSE 'pending' END,
      delivered_at = CASE WHEN o.delivered THEN now() END,
      attempts = CASE WHEN o.interrupted AND NOT o.delivered THEN d.attempts - 1 ELSE d.attempts END,
      next_attempt_at = CASE WHEN o.delivered THEN d.next_attempt_at WHEN o.interrupted THEN now() ELSE now() + o.retry_ms * interval '1 millisecond' END,
      lease_until = NULL, last_status_code = o.status_code, last_error = o.error
    FROM o WHERE d.id = o.id AND d.attempts = o.attempts AND d.status = 'pending'
    RETURNING d.id, d.status
  ), attempt AS (
    INSERT INTO webhook_attempts (delivery_id, status_code, error, duration_ms)
    SELECT o.id, o.status_code, o.error, o.duration_ms FROM o JOIN done USING (id) ORDER BY o.n
  ), queue AS (
    -- The queue as parameters ($4, $5): the index scan comes in seq order and stops at the limit.
    -- Not locked here: a SKIP LOCKED would pass over a row another statement holds (a purge's
    -- delete) and take the one after it. The updates below lock their rows, or find them gone or taken.
    SELECT n.id, n.seq, n.last_attempt_at,
      n.id NOT IN (SELECT id FROM o) AND n.next_attempt_at <= now()
        AND (n.lease_until IS NULL OR n.lease_until < now() OR EXISTS (SELECT 1 FROM held h WHERE h.id = n.id AND h.attempts = n.attempts)) AS free
    FROM webhook_deliveries n
    WHERE n.session_id = $4 AND n.url = $5 AND n.status = 'pending' AND n.id IS DISTINCT FROM $9::uuid
      AND n.id NOT IN (SELECT id FROM done WHERE status <> 'pending')
    ORDER BY n.seq LIMIT $6
  ), run AS (
    SELECT id, seq, last_attempt_at FROM (SELECT q.*, bool_and(q.free) OVER (ORDER BY q.seq) AS go FROM queue q) q WHERE go
  ), released AS (
    UPDATE webhook_deliveries d SET lease_until = NULL, attempts = d.attempts - 1, last_attempt_at = h.previous_attempt_at
    FROM held h WHERE d.id = h.id AND d.attempts = h.attempts AND d.status = 'pending' AND h.id NOT IN (SELECT id FROM run)
  ), renewed AS (
    UPDATE webhook_deliveries d SET lease_until = now() + $7::int * interval '1 millisecond'
    FROM held h WHERE $8::boolean AND d.id = h.id AND d.attempts = h.attempts AND d.status = 'pending' AND h.id IN (SELECT id FROM run)
  ), leased AS (
    UPDATE webhook_deliveries d
    SET lease_until = now() + $7::int * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
    FROM run r WHERE d.id = r.id AND r.id NOT IN (SELECT id FROM held)
      AND d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until < now())
    RETURNING d.*, r.last_attempt_at AS previous_attempt_at
  )
  SELECT f.finished, r.id AS run_id, l.*
  FROM (SELECT COALESCE(json_agg(json_build_object('id', id, 'status', status)), '[]'::json) AS finished FROM done) f
  LEFT JOIN run r ON true LEFT JOIN leased l ON l.id = r.id
  ORDER BY r.seq`;

const LIST_SQL = `
  SELECT * FROM webhook_deliveries
  WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR session_id = $2) AND ($3::bigint IS NULL OR seq < $3)
  ORDER BY seq DESC LIMIT $4`;

/** Webhook deliveries and their attempts. */
@Injectable()
export class WebhookDeliveryRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Writes the event for each of its targets, in `manager`'s transaction; answers the URLs written to. */
  async enqueue(manager: EntityManager, sessionId: string, event: string, payloadJson: string, global: GlobalTarget | null): Promise<string[]> {
    const rows = (await manager.query(`WITH w AS (${ENQUEUE_SQL} RETURNING url) SELECT DISTINCT url FROM w`, [sessionId, event, payloadJson, global?.url ?? null, global?.secret ?? null, global?.events ?? null])) as Array<{ url: string }>;
    return rows.map((r) => r.url);
  }

  /** `enqueue` of each payload of the JSON array `payloadsJson`, in its order. */
  async enqueueAll(manager: EntityManager, sessionId: string, event: string, payloadsJson: string, global: GlobalTarget | null): Promise<string[]> {
    const rows = (await manager.query(`WITH w AS (${ENQUEUE_ALL_SQL} RETURNING url) SELECT DISTINCT url FROM w`, [sessionId, event, payloadsJson, global?.url ?? null, global?.secret ?? null, global?.events ?? null])) as Array<{ url: string }>;
    return rows.map((r) => r.url);
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

  /** SETTLE_SQL for the queue of `queue`: see there and WebhookQueueRun. */
  async settle(queue: Pick<DeliveryRow, 'session_id' | 'url'>, request: SettleRequest, maxAttempts: number, leaseMs: number): Promise<SettleAnswer> {
    const outcomes = request.outcomes.map(({ row, sent, retryMs }, n) => ({
      n,
      id: row.id,
      attempts: row.attempts,
      delivered: sent.delivered,
      status_code: sent.statusCode,
      error: sent.error,
      duration_ms: sent.durationMs,
      interrupted: sent.interrupted,
      retry_ms: retryMs,
    }));
    const held = request.held.map((row) => ({ id: row.id, attempts: row.attempts, previous_attempt_at: row.previous_attempt_at }));
    const rows = await preparedQuery<DeliveryRow & { finished: Array<{ id: string; status: DeliveryStatus }>; run_id: string | null }>(
      this.dataSource.manager,
      'webhook_settle',
      SETTLE_SQL,
      [JSON.stringify(outcomes), JSON.stringify(held), maxAttempts, queue.session_id, queue.url, request.want, leaseMs, request.renew, request.sending],
    );
    const finished = new Map(rows[0].finished.map((f) => [f.id, f.status]));
    const run = rows.filter((r) => r.run_id !== null).map(({ finished: _finished, run_id, ...row }) => ({ id: run_id!, leased: row.id ? (row as DeliveryRow) : null }));
    return { finished, run };
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
