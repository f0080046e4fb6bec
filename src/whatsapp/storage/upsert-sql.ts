/**
 * Multi-row upserts through `unnest` of typed arrays: one bind parameter per column whatever the
 * batch size, so a batch is never near PostgreSQL's 65,535-parameter limit. `WHERE ... IS DISTINCT
 * FROM` skips rows that did not change, so a re-sync rewrites nothing it does not have to.
 */
export const UPSERT_CHATS_SQL = `
  INSERT INTO chats (session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw)
  SELECT $1, u.wa_id, u.name, u.is_group, u.unread_count, u.timestamp, u.archived, u.pinned, u.raw
  FROM unnest($2::text[], $3::text[], $4::boolean[], $5::integer[], $6::bigint[], $7::boolean[], $8::boolean[], $9::jsonb[])
    AS u(wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw)
  ON CONFLICT (session_id, wa_id) DO UPDATE SET
    name = EXCLUDED.name, is_group = EXCLUDED.is_group, unread_count = EXCLUDED.unread_count,
    timestamp = EXCLUDED.timestamp, archived = EXCLUDED.archived, pinned = EXCLUDED.pinned,
    raw = EXCLUDED.raw, updated_at = now()
  WHERE (chats.name, chats.is_group, chats.unread_count, chats.timestamp, chats.archived, chats.pinned, chats.raw)
    IS DISTINCT FROM
    (EXCLUDED.name, EXCLUDED.is_group, EXCLUDED.unread_count, EXCLUDED.timestamp, EXCLUDED.archived, EXCLUDED.pinned, EXCLUDED.raw)`;

export const UPSERT_MESSAGES_SQL = `
  INSERT INTO messages (session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw)
  SELECT $1, $2, u.wa_id, u.from_me, u.author, u.body, u.type, u.timestamp, u.has_media, u.ack, u.raw
  FROM unnest($3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::boolean[], $10::integer[], $11::jsonb[])
    AS u(wa_id, from_me, author, body, type, timestamp, has_media, ack, raw)
  ON CONFLICT (session_id, wa_id) DO UPDATE SET
    chat_id = EXCLUDED.chat_id, from_me = EXCLUDED.from_me, author = EXCLUDED.author, body = EXCLUDED.body,
    type = EXCLUDED.type, timestamp = EXCLUDED.timestamp, has_media = EXCLUDED.has_media, ack = EXCLUDED.ack,
    raw = EXCLUDED.raw, updated_at = now()
  WHERE (messages.chat_id, messages.from_me, messages.author, messages.body, messages.type, messages.timestamp,
         messages.has_media, messages.ack, messages.raw)
    IS DISTINCT FROM
    (EXCLUDED.chat_id, EXCLUDED.from_me, EXCLUDED.author, EXCLUDED.body, EXCLUDED.type, EXCLUDED.timestamp,
     EXCLUDED.has_media, EXCLUDED.ack, EXCLUDED.raw)`;

/** A live chat we know nothing about yet gets a placeholder row; a real sync fills it in. */
export const INSERT_CHAT_STUB_SQL = `
  INSERT INTO chats (session_id, wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw)
  VALUES ($1, $2, $2, $3, 0, $4, false, false, '{}'::jsonb)
  ON CONFLICT (session_id, wa_id) DO UPDATE SET timestamp = GREATEST(chats.timestamp, EXCLUDED.timestamp)`;
