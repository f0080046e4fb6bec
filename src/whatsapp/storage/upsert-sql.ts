/**
 * Multi-row upserts whose rows travel as ONE JSON parameter, unpacked by `jsonb_to_recordset`: a
 * batch is never near PostgreSQL's 65,535-parameter limit, the client serializes it with native
 * JSON.stringify (no per-value array-literal escaping, which profiling showed dominating), and
 * fewer bytes cross the wire. Short keys (see `toChatRow` in chat.repository.ts, `toMessageRow` in
 * message.repository.ts) keep it compact.
 * `WHERE ... IS DISTINCT FROM` skips rows that did not change, so a re-sync rewrites nothing it does
 * not have to. Callers send rows sorted by id, so that concurrent writers take row locks in one order.
 */
const CHAT_COLUMNS = 'session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw';
const CHAT_RECORDSET = 'jsonb_to_recordset($2::jsonb) AS u(i text, n text, g boolean, u integer, ts bigint, a boolean, p boolean, r jsonb)';
const CHAT_STORED_FIELDS = '(chats.name, chats.is_group, chats.unread_count, chats.timestamp, chats.archived, chats.pinned, chats.raw)';
const CHAT_LISTED_FIELDS = '(u.n, u.g, u.u, u.ts, u.a, u.p, u.r)';
const CHAT_ON_CONFLICT = `
  ON CONFLICT (session_id, wa_id) DO UPDATE SET
    name = EXCLUDED.name, is_group = EXCLUDED.is_group, unread_count = EXCLUDED.unread_count,
    timestamp = EXCLUDED.timestamp, archived = EXCLUDED.archived, pinned = EXCLUDED.pinned,
    raw = EXCLUDED.raw, updated_at = now()
  WHERE ${CHAT_STORED_FIELDS}
    IS DISTINCT FROM
    (EXCLUDED.name, EXCLUDED.is_group, EXCLUDED.unread_count, EXCLUDED.timestamp, EXCLUDED.archived, EXCLUDED.pinned, EXCLUDED.raw)`;

export const UPSERT_CHATS_SQL = `
  INSERT INTO chats (${CHAT_COLUMNS})
  SELECT $1, u.i, u.n, u.g, u.u, u.ts, u.a, u.p, u.r
  FROM ${CHAT_RECORDSET}
  ${CHAT_ON_CONFLICT}`;

/**
 * What a message upsert does with a row that exists: update it only if something changed, and only
 * in the chat that holds it. Message ids are unique per session; an id that a second chat also
 * lists stays with the chat that stored it first and is never moved or rewritten by the other.
 */
export const MESSAGE_CONFLICT_SQL = `
  ON CONFLICT (session_id, wa_id) DO UPDATE SET
    from_me = EXCLUDED.from_me, author = EXCLUDED.author, body = EXCLUDED.body,
    type = EXCLUDED.type, timestamp = EXCLUDED.timestamp, has_media = EXCLUDED.has_media, ack = EXCLUDED.ack,
    raw = EXCLUDED.raw, updated_at = now()
  WHERE messages.chat_id = EXCLUDED.chat_id
    AND (messages.from_me, messages.author, messages.body, messages.type, messages.timestamp,
         messages.has_media, messages.ack, messages.raw)
    IS DISTINCT FROM
    (EXCLUDED.from_me, EXCLUDED.author, EXCLUDED.body, EXCLUDED.type, EXCLUDED.timestamp,
     EXCLUDED.has_media, EXCLUDED.ack, EXCLUDED.raw)`;

/**
 * Upserts a chat's messages and answers `held`: how many of them the chat holds afterwards (written
 * now, or stored before and unchanged), so that a count never includes an id another chat holds;
 * and `inserted`: how many rows are new (`xmax = 0` on a row the insert returns: it was not updated).
 * Every sub-statement sees the table as it was before the statement: the unchanged rows are those
 * that the insert did not return but that were already this chat's.
 */
export const UPSERT_MESSAGES_SQL = `
  WITH u AS (
    SELECT * FROM jsonb_to_recordset($3::jsonb)
      AS u(i text, f boolean, a text, b text, t text, ts bigint, m boolean, k integer, r jsonb)
  ), w AS (
    INSERT INTO messages (session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw)
    SELECT $1, $2, u.i, u.f, u.a, u.b, u.t, u.ts, u.m, u.k, u.r FROM u
    ${MESSAGE_CONFLICT_SQL}
    RETURNING wa_id, (xmax = 0) AS inserted
  )
  SELECT (SELECT count(*) FROM w WHERE w.inserted)::int AS inserted, (SELECT count(*) FROM w)::int + (
    SELECT count(*) FROM u
    WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.wa_id = u.i)
      AND EXISTS (SELECT 1 FROM messages s WHERE s.session_id = $1 AND s.wa_id = u.i AND s.chat_id = $2)
  )::int AS held`;

/**
 * UPSERT_CHATS_SQL that also answers, for each chat of the batch, its newest stored message (by
 * timestamp, then row id; none: no row), read through ix_messages_chat_page, one probe a chat: what
 * an incremental run needs to decide which chats to fetch, in the statement it sends anyway. Rows
 * stored exactly as listed are left out of the insert before it looks for conflicts, so that a
 * catch-up where little changed neither locks nor logs a thousand unchanged rows. The insert runs
 * whether or not the outer query reads it; it writes no message, so the read is exact.
 */
export const UPSERT_CHATS_NEWEST_MESSAGE_SQL = `
  WITH u AS (SELECT * FROM ${CHAT_RECORDSET}),
  w AS (
    INSERT INTO chats (${CHAT_COLUMNS})
    SELECT $1::text, u.i, u.n, u.g, u.u, u.ts, u.a, u.p, u.r FROM u
    WHERE NOT EXISTS (
      SELECT 1 FROM chats WHERE chats.session_id = $1::text AND chats.wa_id = u.i
        AND ${CHAT_STORED_FIELDS} IS NOT DISTINCT FROM ${CHAT_LISTED_FIELDS}
    )
    ${CHAT_ON_CONFLICT}
  )
  SELECT u.i AS chat_id, n.wa_id AS newest_id, n.timestamp AS newest_ts
  FROM u
  LEFT JOIN LATERAL (
    SELECT m.wa_id, m.timestamp FROM messages m
    WHERE m.session_id = $1::text AND m.chat_id = u.i
    ORDER BY m.timestamp DESC, m.id DESC LIMIT 1
  ) n ON true`;

/** A live chat we know nothing about yet gets a placeholder row; a real sync fills it in. */
export const INSERT_CHAT_STUB_SQL = `
  INSERT INTO chats (session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw)
  VALUES ($1, $2, $2, $3, 0, $4, false, false, '{}'::jsonb)
  ON CONFLICT (session_id, wa_id) DO UPDATE SET timestamp = GREATEST(chats.timestamp, EXCLUDED.timestamp)`;
