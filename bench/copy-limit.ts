import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { generateAccount } from '../src/whatsapp/client/simulated/generated-account';
import { pgSafeJson } from '../src/whatsapp/storage/pg-safe';
import { MESSAGE_CONFLICT_SQL } from '../src/whatsapp/storage/upsert-sql';

/**
 * The fastest upsert this machine allows for the same rows: COPY into a staging table, then one
 * INSERT ... SELECT ... ON CONFLICT with the service's own skip-unchanged rule (MESSAGE_CONFLICT_SQL). The rows are
 * built before the clock starts: this measures the database alone.
 */
export async function copyLimit(url: string, chats: number, messagesPerChat: number): Promise<{ freshPerSecond: number; resyncPerSecond: number }> {
  const text = buildCopyText('bench', chats, messagesPerChat);
  const count = chats * messagesPerChat;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE UNLOGGED TABLE staging (session_id text, chat_id text, wa_id text, from_me boolean, author text, body text,
      type text, timestamp bigint, has_media boolean, ack integer, raw jsonb)`);
    const fresh = await timed(() => copyAndMerge(client, text));
    const resync = await timed(() => copyAndMerge(client, text));
    const [{ n }] = (await client.query('SELECT count(*)::int AS n FROM messages')).rows as Array<{ n: number }>;
    if (n !== count) throw new Error(`limit wrote ${n} rows, expected ${count}`);
    return { freshPerSecond: count / (fresh / 1000), resyncPerSecond: count / (resync / 1000) };
  } finally {
    await client.end();
  }
}

/** The service's rule, with KEEP_REVOKED_BODY (its `$4`) at its default, false: these rows are never revoked. */
async function copyAndMerge(client: Client, chunks: string[]): Promise<void> {
  await client.query('BEGIN');
  await client.query('TRUNCATE staging');
  await pipeline(Readable.from(chunks), client.query(copyFrom('COPY staging FROM STDIN')));
  await client.query(`
    INSERT INTO messages (session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw)
    SELECT session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw FROM staging
    ${MESSAGE_CONFLICT_SQL.replaceAll('$4::boolean', 'false')}`);
  await client.query('COMMIT');
}

/** The generated account's messages in COPY text format, in chunks of one chat. */
function buildCopyText(sessionId: string, chats: number, messagesPerChat: number): string[] {
  const account = generateAccount({ chats, messagesPerChat });
  return account.chats.map(({ chat, newestMessages }) =>
    newestMessages(messagesPerChat)
      .map((m) =>
        [sessionId, chat.id, m.id, m.fromMe, m.author, m.body, m.type, m.timestamp, m.hasMedia, m.ack, pgSafeJson(m.raw)]
          .map(copyField)
          .join('\t'),
      )
      .join('\n')
      .concat('\n'),
  );
}

function copyField(value: string | number | boolean | null): string {
  if (value === null) return '\\N';
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}
