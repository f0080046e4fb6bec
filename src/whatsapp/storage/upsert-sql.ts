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

/**
 * Rows stored exactly as listed are left out of the insert before it looks for conflicts, so that a
 * re-sync or a catch-up where little changed neither locks nor logs a thousand unchanged rows.
 */
export const UPSERT_CHATS_SQL = `
  WITH u AS (SELECT * FROM ${CHAT_RECORDSET})
  INSERT INTO chats (${CHAT_COLUMNS})
  SELECT $1::text, u.i, u.n, u.g, u.u, u.ts, u.a, u.p, u.r FROM u
  WHERE NOT EXISTS (
    SELECT 1 FROM chats WHERE chats.session_id = $1::text AND chats.wa_id = u.i
      AND ${CHAT_STORED_FIELDS} IS NOT DISTINCT FROM ${CHAT_LISTED_FIELDS}
  )
  ${CHAT_ON_CONFLICT}`;

/** Keys of a message's raw object that carry its text: removed with the text of a message deleted for everyone. */
export const REVOKED_TEXT_KEYS = ['body', 'caption', 'matchedText', 'title', 'description', 'pollName'];
export const REVOKED_TEXT_KEYS_SQL = `'{${REVOKED_TEXT_KEYS.join(',')}}'::text[]`;

/**
 * What a message upsert sets on a row that exists, column by column: written once, so that the SET
 * and the IS DISTINCT FROM that skips unchanged rows cannot disagree. A change never goes backwards:
 * the highest ack wins, a deletion for everyone is final (the row keeps its type, media flag and, with
 * KEEP_REVOKED_BODY=true (`$4`), its text), and a fetch whose edit is older than the stored one (a
 * window fetched before a live edit) keeps the stored text.
 */
const MESSAGE_UPDATES: ReadonlyArray<readonly [column: string, value: string]> = [
  ['from_me', 'EXCLUDED.from_me'],
  ['author', 'EXCLUDED.author'],
  ['body', `CASE WHEN messages.revoked THEN messages.body
    WHEN EXCLUDED.revoked THEN CASE WHEN $4::boolean THEN messages.body ELSE '' END
    WHEN messages.edited_at > COALESCE(EXCLUDED.edited_at, -1) THEN messages.body
    ELSE EXCLUDED.body END`],
  ['type', 'CASE WHEN messages.revoked OR EXCLUDED.revoked THEN messages.type ELSE EXCLUDED.type END'],
  ['timestamp', 'EXCLUDED.timestamp'],
  ['has_media', 'CASE WHEN messages.revoked OR EXCLUDED.revoked THEN messages.has_media ELSE EXCLUDED.has_media END'],
  ['ack', 'GREATEST(messages.ack, EXCLUDED.ack)'],
  ['edited_at', 'GREATEST(messages.edited_at, EXCLUDED.edited_at)'],
  ['revoked', 'messages.revoked OR EXCLUDED.revoked'],
  ['revoked_at', 'COALESCE(messages.revoked_at, EXCLUDED.revoked_at)'],
  ['raw', `CASE WHEN (messages.revoked AND NOT EXCLUDED.revoked) OR messages.edited_at > COALESCE(EXCLUDED.edited_at, -1)
    THEN messages.raw ELSE EXCLUDED.raw END`],
];

/**
 * What a message upsert does with a row that exists: update it only if something changed, and only
 * in the chat that holds it. Message ids are unique per session; an id that a second chat also
 * lists stays with the chat that stored it first and is never moved or rewritten by the other.
 */
export const MESSAGE_CONFLICT_SQL = `
  ON CONFLICT (session_id, wa_id) DO UPDATE SET
    ${MESSAGE_UPDATES.map(([column, value]) => `${column} = ${value}`).join(',\n    ')},
    updated_at = now()
  WHERE messages.chat_id = EXCLUDED.chat_id
    AND (${MESSAGE_UPDATES.map(([column]) => `messages.${column}`).join(', ')})
    IS DISTINCT FROM
    (${MESSAGE_UPDATES.map(([, value]) => value).join(',\n     ')})`;

/**
 * The fetched rows (`fetched`) that this chat already holds exactly as they would be after the
 * upsert: same values, not deleted, no change waiting for them. MESSAGE_CONFLICT_SQL would leave each
 * of them as it is, but only after locking it (a write to the row and to the WAL); a re-sync, where
 * nearly every row is one of these, skips them before the insert. The test is stricter than the
 * upsert's own (an ack below the stored one, an older edit, are left to the upsert): a row it lets
 * through is merely written the slow way.
 */
const SAME_AS_STORED_SQL = `
    SELECT fetched.i FROM fetched
    JOIN messages s ON s.session_id = $1 AND s.wa_id = fetched.i AND s.chat_id = $2
    WHERE NOT fetched.rv AND NOT s.revoked AND s.revoked_at IS NULL
      AND s.from_me = fetched.f AND s.author IS NOT DISTINCT FROM fetched.a AND s.body = fetched.b
      AND s.type = fetched.t AND s.timestamp = fetched.ts AND s.has_media = fetched.m
      AND s.ack = fetched.k AND s.edited_at IS NOT DISTINCT FROM fetched.e AND s.raw = fetched.r
      AND NOT EXISTS (SELECT 1 FROM pending_message_changes p WHERE p.session_id = $1 AND p.message_id = fetched.i)`;

/**
 * Upserts a chat's messages and answers `held`: how many of them the chat holds afterwards (written
 * now, or stored before and unchanged), so that a count never includes an id another chat holds;
 * and `inserted`: how many rows are new (`xmax = 0` on a row the insert returns: it was not updated).
 * `u` is what is left of the fetched rows once those stored exactly as they are (`same`) are set
 * aside. Every sub-statement sees the table as it was before the statement: the unchanged rows are
 * those of `same`, and those of `u` that the insert did not return but that were already this chat's.
 *
 * Changes that arrived live before their message was stored (`pending_message_changes`) are applied
 * here, as the message arrives, and deleted: `v` merges them into the fetched row (a deletion for
 * everyone drops the text unless `$4`, KEEP_REVOKED_BODY). A fetched message of type `revoked` (`rv`)
 * is a deletion the sync saw. `$1` session, `$2` chat, `$3` the rows (`toMessageRow`), `$4` keep the
 * text of deleted messages.
 */
export const UPSERT_MESSAGES_SQL = upsertMessagesSql(false);

/**
 * UPSERT_MESSAGES_SQL that also answers `inserted_ids`, the ids of the new rows: for a catch-up,
 * whose new messages each become an outbox event in the same transaction. A statement of its own,
 * so that a full run's does not build a list nobody reads.
 */
export const UPSERT_MESSAGES_RETURNING_NEW_SQL = upsertMessagesSql(true);

function upsertMessagesSql(withInsertedIds: boolean): string {
  return `
  WITH fetched AS (
    SELECT * FROM jsonb_to_recordset($3::jsonb)
      AS u(i text, f boolean, a text, b text, t text, ts bigint, m boolean, k integer, e bigint, rv boolean, r jsonb)
  ), same AS (
    ${SAME_AS_STORED_SQL}
  ), u AS (
    SELECT * FROM fetched WHERE NOT EXISTS (SELECT 1 FROM same WHERE same.i = fetched.i)
  ), v AS (
    SELECT u.*, p.body AS pb, p.edited_at AS pe, p.ack AS pk, (u.rv OR p.revoked_at IS NOT NULL) AS revoked,
      CASE WHEN u.rv OR p.revoked_at IS NOT NULL THEN COALESCE(p.revoked_at, extract(epoch FROM now())::bigint) END AS revoked_at
    FROM u LEFT JOIN pending_message_changes p ON p.session_id = $1 AND p.message_id = u.i
  ), w AS (
    INSERT INTO messages (session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, edited_at, revoked, revoked_at, raw)
    SELECT $1, $2, v.i, v.f, v.a,
      CASE WHEN v.revoked AND NOT $4::boolean THEN '' WHEN v.pe > COALESCE(v.e, -1) THEN v.pb ELSE v.b END,
      v.t, v.ts, v.m, GREATEST(v.k, v.pk), GREATEST(v.e, v.pe), v.revoked, v.revoked_at,
      CASE WHEN v.revoked AND NOT $4::boolean THEN v.r - ${REVOKED_TEXT_KEYS_SQL} ELSE v.r END
    FROM v
    ${MESSAGE_CONFLICT_SQL}
    RETURNING wa_id, (xmax = 0) AS inserted
  ), applied AS (
    DELETE FROM pending_message_changes p USING u
    WHERE p.session_id = $1 AND p.message_id = u.i
      AND NOT EXISTS (SELECT 1 FROM messages s WHERE s.session_id = $1 AND s.wa_id = u.i AND s.chat_id <> $2)
  )
  SELECT (SELECT count(*) FROM w WHERE w.inserted)::int AS inserted, (SELECT count(*) FROM w)::int + (SELECT count(*) FROM same)::int + (
    SELECT count(*) FROM u
    WHERE NOT EXISTS (SELECT 1 FROM w WHERE w.wa_id = u.i)
      AND EXISTS (SELECT 1 FROM messages s WHERE s.session_id = $1 AND s.wa_id = u.i AND s.chat_id = $2)
  )::int AS held${withInsertedIds ? `, ARRAY(SELECT w.wa_id FROM w WHERE w.inserted) AS inserted_ids` : ''}`;
}

/**
 * Each stored chat of a session (`$2`: only those ids; null: all), as stored, with its newest stored
 * message, by timestamp, then row id (none: nulls), read through ix_messages_chat_page, one probe a
 * chat: what an incremental run needs to decide which chats to fetch and which chat rows to upsert,
 * read while WhatsApp lists the chats. The chat's fields come as a `toChatRow` row (`c.row`).
 */
export const STORED_CHATS_SQL = `
  SELECT c.wa_id AS chat_id, n.wa_id AS newest_id, n.timestamp AS newest_ts,
    jsonb_build_object('i', c.wa_id, 'n', c.name, 'g', c.is_group, 'u', c.unread_count, 'ts', c.timestamp,
      'a', c.archived, 'p', c.pinned, 'r', c.raw) AS row
  FROM chats c
  LEFT JOIN LATERAL (
    SELECT m.wa_id, m.timestamp FROM messages m
    WHERE m.session_id = $1::text AND m.chat_id = c.wa_id
    ORDER BY m.timestamp DESC, m.id DESC LIMIT 1
  ) n ON true
  WHERE c.session_id = $1::text AND ($2::text[] IS NULL OR c.wa_id = ANY($2::text[]))`;

/** A live chat we know nothing about yet gets a placeholder row; a real sync fills it in. */
export const INSERT_CHAT_STUB_SQL = `
  INSERT INTO chats (session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw)
  VALUES ($1, $2, $2, $3, 0, $4, false, false, '{}'::jsonb)
  ON CONFLICT (session_id, wa_id) DO UPDATE SET timestamp = GREATEST(chats.timestamp, EXCLUDED.timestamp)`;
