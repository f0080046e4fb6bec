import { NO_FENCE } from '../src/whatsapp/session/session-fence';
import { DataSource, Logger } from 'typeorm';
import { loadConfig } from '../src/config/app-config';
import { MediaQueue } from '../src/media/media-queue';
import { MediaRepository } from '../src/media/media.repository';
import { MediaWakeup } from '../src/media/media-wakeup';
import { PostgresMediaStore } from '../src/media/stores/postgres-media.store';
import { ChatEntity } from '../src/database/entities/chat.entity';
import { MessageEntity } from '../src/database/entities/message.entity';
import { MessageReactionEntity } from '../src/database/entities/message-reaction.entity';
import { SyncRunEntity } from '../src/database/entities/sync-run.entity';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { WaChat, WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { ChatRepository } from '../src/whatsapp/storage/chat.repository';
import { MessageRepository } from '../src/whatsapp/storage/message.repository';
import { MessageChangeRepository } from '../src/whatsapp/storage/message-change.repository';
import { decodeCursor, encodeCursor, MessageCursor } from '../src/whatsapp/storage/message-cursor';
import { UPSERT_CHATS_SQL, UPSERT_MESSAGES_SQL } from '../src/whatsapp/storage/upsert-sql';
import { CHAT_BATCH_SIZE, MESSAGE_BATCH_SIZE, WhatsappStorageService } from '../src/whatsapp/whatsapp-storage.service';
import { SyncRunRepository } from '../src/whatsapp/sync/sync-run.repository';
import { TestDatabase } from './support/test-database';

/** A TypeORM logger that records every statement TypeORM sends. */
class CountingLogger implements Logger {
  readonly levels = ['query' as const];
  queries: string[] = [];
  logQuery(query: string): void {
    this.queries.push(query);
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
  reset(): void {
    this.queries = [];
  }
  get count(): number {
    return this.queries.length;
  }
}

const BASE = 1_764_150_000;

function chat(id: string, overrides: Partial<WaChat> = {}): WaChat {
  const fields = {
    id,
    name: `Name of ${id}`,
    isGroup: id.endsWith('@g.us'),
    unreadCount: 1,
    timestamp: BASE,
    archived: false,
    pinned: false,
  };
  return { ...fields, raw: { ...fields, kind: 'chat' }, ...overrides };
}

function message(chatId: string, n: number, overrides: Partial<WaMessage> = {}): WaMessage {
  const fromMe = n % 2 === 1;
  const fields = {
    id: `${fromMe}_${chatId}_3EB0${String(n).padStart(8, '0')}`,
    chatId,
    fromMe,
    author: chatId.endsWith('@g.us') && !fromMe ? '15551230000@c.us' : null,
    body: `message ${n} of ${chatId}`,
    type: n % 10 === 9 ? 'image' : 'chat',
    timestamp: BASE - 100_000 + n,
    hasMedia: n % 10 === 9,
    ack: n % 4,
  };
  return { ...fields, raw: { ...fields, n }, ...overrides };
}

function messages(chatId: string, count: number): WaMessage[] {
  return Array.from({ length: count }, (_, n) => message(chatId, n));
}

interface MessageRow {
  id: string;
  session_id: string;
  chat_id: string;
  wa_id: string;
  from_me: boolean;
  author: string | null;
  body: string;
  type: string;
  timestamp: string;
  has_media: boolean;
  ack: number;
  raw: Record<string, unknown>;
}

/** The row we expect for a message (pg returns bigint as text). */
function rowOf(sessionId: string, m: WaMessage): Omit<MessageRow, 'id'> {
  return {
    session_id: sessionId,
    chat_id: m.chatId,
    wa_id: m.id,
    from_me: m.fromMe,
    author: m.author,
    body: m.body,
    type: m.type,
    timestamp: String(m.timestamp),
    has_media: m.hasMedia,
    ack: m.ack,
    raw: m.raw,
  };
}

const MESSAGE_COLUMNS = 'session_id, chat_id, wa_id, from_me, author, body, type, timestamp, has_media, ack, raw';

describe('WhatsappStorageService on PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let storage: WhatsappStorageService;
  const logger = new CountingLogger();

  beforeAll(async () => {
    db = await TestDatabase.create();
    dataSource = new DataSource({ ...typeOrmOptions(db.url, 2, logger), migrationsRun: false });
    await dataSource.initialize();
    storage = new WhatsappStorageService(
      dataSource,
      new ChatRepository(dataSource.getRepository(ChatEntity)),
      new MessageRepository(dataSource.getRepository(MessageEntity)),
      new SyncRunRepository(dataSource.getRepository(SyncRunEntity)),
      new MessageChangeRepository(dataSource.getRepository(MessageEntity), dataSource.getRepository(MessageReactionEntity)),
      { keepRevokedBody: false },
      // No webhook here: the outbox records nothing.
      { record: async () => undefined, recordAll: async () => undefined, forgetMessages: async () => undefined, purging: (_sessionId, purge) => purge() },
      new MediaQueue({ media: loadConfig({}).media }, new MediaRepository(dataSource), new MediaWakeup(), new PostgresMediaStore(dataSource)),
      // No sessions run here: nothing to fence.
      NO_FENCE,
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  beforeEach(() => logger.reset());

  async function count(table: 'chats' | 'messages' | 'sync_runs', sessionId: string): Promise<number> {
    const [row] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE session_id = $1`, [sessionId]);
    return Number(row.n);
  }

  async function messageRows(sessionId: string, waIds: string[]): Promise<Omit<MessageRow, 'id'>[]> {
    const rows = await db.query<Omit<MessageRow, 'id'>>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE session_id = $1 AND wa_id = ANY($2)`,
      [sessionId, waIds],
    );
    const byId = new Map(rows.map((r) => [r.wa_id, r]));
    return waIds.map((id) => byId.get(id)!);
  }

  /** Row id, updated_at and xmin of every message of a session: any rewrite changes xmin. */
  async function versions(table: 'chats' | 'messages', sessionId: string) {
    // updated_at in microseconds since the epoch, as text: exact, and comparable with BigInt.
    return db.query<{ wa_id: string; id: string; updated_at: string; xmin: string }>(
      `SELECT wa_id, id::text, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_at, xmin::text
       FROM ${table} WHERE session_id = $1 ORDER BY wa_id`,
      [sessionId],
    );
  }

  describe('saveChats', () => {
    it('calls onProgress once per chat, in order, each after its row is committed', async () => {
      const chats = [chat('1@c.us', { name: 'Alice', unreadCount: 2 }), chat('2-3@g.us', { pinned: true }), chat('4@c.us', { timestamp: null })];
      const calls: [number, number, string][] = [];
      const seen: Record<string, unknown>[] = [];
      await storage.saveChats('chats-progress', chats, async (index, total, c) => {
        calls.push([index, total, c.id]);
        const rows = await db.query(
          'SELECT wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw FROM chats WHERE session_id = $1 AND wa_id = $2',
          ['chats-progress', c.id],
        );
        seen.push(...rows);
      });
      expect(calls).toEqual([
        [0, 3, '1@c.us'],
        [1, 3, '2-3@g.us'],
        [2, 3, '4@c.us'],
      ]);
      expect(seen).toEqual(
        chats.map((c) => ({
          wa_id: c.id,
          name: c.name,
          is_group: c.isGroup,
          unread_count: c.unreadCount,
          timestamp: c.timestamp === null ? null : String(c.timestamp),
          archived: c.archived,
          pinned: c.pinned,
          raw: c.raw,
        })),
      );
      expect(logger.queries).toEqual([UPSERT_CHATS_SQL]);
    });

    it('works across more than CHAT_BATCH_SIZE chats with one upsert per batch', async () => {
      const n = 1201;
      expect(n).toBeGreaterThan(2 * CHAT_BATCH_SIZE);
      const chats = Array.from({ length: n }, (_, i) => chat(`${15550000000 + i}@c.us`, { timestamp: BASE - i }));
      const indices: number[] = [];
      const totals = new Set<number>();
      const missing: string[] = [];
      const ids: string[] = [];
      await storage.saveChats('chats-many', chats, async (index, total, c) => {
        indices.push(index);
        totals.add(total);
        ids.push(c.id);
        const rows = await db.query('SELECT 1 FROM chats WHERE session_id = $1 AND wa_id = $2', ['chats-many', c.id]);
        if (rows.length !== 1) missing.push(c.id);
      });
      expect(indices).toEqual(Array.from({ length: n }, (_, i) => i));
      expect([...totals]).toEqual([n]);
      expect(ids).toEqual(chats.map((c) => c.id));
      expect(missing).toEqual([]);
      expect(logger.queries).toEqual(Array.from({ length: Math.ceil(n / CHAT_BATCH_SIZE) }, () => UPSERT_CHATS_SQL));
      expect(logger.count).toBe(3);
      expect(await count('chats', 'chats-many')).toBe(n);
    });

    it('stores nothing and calls nothing for an empty list', async () => {
      const progress = jest.fn();
      await storage.saveChats('chats-empty', [], progress);
      expect(progress).not.toHaveBeenCalled();
      expect(logger.count).toBe(0);
      expect(await count('chats', 'chats-empty')).toBe(0);
    });

    it('saving the same chats twice keeps ids and rows untouched; a changed chat is updated', async () => {
      const chats = [chat('a@c.us'), chat('b@c.us'), chat('c-1@g.us')];
      await storage.saveChats('chats-twice', chats);
      const before = await versions('chats', 'chats-twice');
      await storage.saveChats('chats-twice', chats.map((c) => ({ ...c, raw: { ...c.raw } })));
      expect(await versions('chats', 'chats-twice')).toEqual(before);
      expect(await count('chats', 'chats-twice')).toBe(3);

      await storage.saveChats('chats-twice', [chat('b@c.us', { name: 'Renamed', unreadCount: 9 })]);
      const after = await versions('chats', 'chats-twice');
      expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
      expect([after[0], after[2]]).toEqual([before[0], before[2]]);
      expect(BigInt(after[1].updated_at) > BigInt(before[1].updated_at)).toBe(true);
      expect(await db.query('SELECT name, unread_count FROM chats WHERE session_id = $1 AND wa_id = $2', ['chats-twice', 'b@c.us'])).toEqual([
        { name: 'Renamed', unread_count: 9 },
      ]);
    });

    it('leaves out chats whose id cannot be stored (empty, or over 1,024 bytes), still reporting each in order', async () => {
      const ids = ['ok@c.us', '', `${'\u00e9'.repeat(510)}@c.us`, '\u0000', `${'\u00e9'.repeat(509)}@c.us`];
      const seen: string[] = [];
      await storage.saveChats('chat-ids', ids.map((id) => chat(id)), (_index, _total, c) => {
        seen.push(c.id);
      });
      // '' and '\u0000' are the same id once stored: one chat, reported once, at its last listing.
      expect(seen).toEqual([ids[0], ids[2], ids[3], ids[4]]);
      const rows = await db.query<{ wa_id: string }>('SELECT wa_id FROM chats WHERE session_id = $1', ['chat-ids']);
      expect(rows.map((r) => r.wa_id).sort()).toEqual([`${'\u00e9'.repeat(509)}@c.us`, 'ok@c.us'].sort());
    });

    it('stores and reports a chat listed twice once, as its last listing', async () => {
      const calls: string[] = [];
      await storage.saveChats('chats-dup', [chat('x@c.us', { name: 'first' }), chat('y@c.us'), chat('x@c.us', { name: 'last' })], (_i, _t, c) => {
        calls.push(c.name);
      });
      expect(await db.query('SELECT wa_id, name FROM chats WHERE session_id = $1 ORDER BY wa_id', ['chats-dup'])).toEqual([
        { wa_id: 'x@c.us', name: 'last' },
        { wa_id: 'y@c.us', name: 'Name of y@c.us' },
      ]);
      expect(calls).toEqual(['Name of y@c.us', 'last']);
    });

    it('stores NUL and lone surrogates in chat names and raw keys safely', async () => {
      await storage.saveChats('chats-odd', [
        chat('odd@c.us', { name: 'Na\u0000me \uD800', raw: { 'k\u0000ey': 'v\u0000', nested: ['\uDC00x'] }, timestamp: Number.NaN, unreadCount: -3 }),
      ]);
      expect(
        await db.query('SELECT name, raw, timestamp, unread_count FROM chats WHERE session_id = $1', ['chats-odd']),
      ).toEqual([{ name: 'Name \uFFFD', raw: { key: 'v', nested: ['\uFFFDx'] }, timestamp: null, unread_count: 0 }]);
    });
  });

  describe('saveMessages', () => {
    it('stores 1,000 messages in one statement and reports once after commit', async () => {
      const list = messages('m1k@c.us', 1000);
      const progress: number[] = [];
      const visibleAtProgress: number[] = [];
      const saved = await storage.saveMessages('msg-1k', 'm1k@c.us', list, async (n) => {
        progress.push(n);
        visibleAtProgress.push(await count('messages', 'msg-1k'));
      });
      expect(saved).toBe(1000);
      expect(progress).toEqual([1000]);
      expect(visibleAtProgress).toEqual([1000]);
      // One INSERT is atomic on its own: no transaction statements around it.
      expect(logger.queries).toEqual([UPSERT_MESSAGES_SQL]);
      expect(logger.count).toBeLessThanOrEqual(5);
      expect(await count('messages', 'msg-1k')).toBe(1000);

      const sample = [0, 1, 9, 500, 998, 999].map((n) => list[n]);
      expect(await messageRows('msg-1k', sample.map((m) => m.id))).toEqual(sample.map((m) => rowOf('msg-1k', m)));
      expect(await messageRows('msg-1k', [list[9].id])).toEqual([
        {
          session_id: 'msg-1k',
          chat_id: 'm1k@c.us',
          wa_id: 'true_m1k@c.us_3EB000000009',
          from_me: true,
          author: null,
          body: 'message 9 of m1k@c.us',
          type: 'image',
          timestamp: String(BASE - 100_000 + 9),
          has_media: true,
          ack: 1,
          raw: {
            id: 'true_m1k@c.us_3EB000000009',
            chatId: 'm1k@c.us',
            fromMe: true,
            author: null,
            body: 'message 9 of m1k@c.us',
            type: 'image',
            timestamp: BASE - 100_000 + 9,
            hasMedia: true,
            ack: 1,
            n: 9,
          },
        },
      ]);
    });

    it('stores 5,000 messages with one insert per MESSAGE_BATCH_SIZE, all in one transaction', async () => {
      const list = messages('m5k-1@g.us', 5000);
      const progress: number[] = [];
      expect(await storage.saveMessages('msg-5k', 'm5k-1@g.us', list, (n) => void progress.push(n))).toBe(5000);
      const inserts = Math.ceil(5000 / MESSAGE_BATCH_SIZE);
      expect(inserts).toBe(3);
      expect(logger.queries).toEqual(['START TRANSACTION', ...Array.from({ length: inserts }, () => UPSERT_MESSAGES_SQL), 'COMMIT']);
      expect(progress).toEqual([5000]);
      expect(await count('messages', 'msg-5k')).toBe(5000);
      // Every row was written by the same transaction.
      expect(await db.query('SELECT count(DISTINCT xmin::text)::int AS n FROM messages WHERE session_id = $1', ['msg-5k'])).toEqual([{ n: 1 }]);
      const sample = [0, 1999, 2000, 3999, 4000, 4999].map((n) => list[n]);
      expect(await messageRows('msg-5k', sample.map((m) => m.id))).toEqual(sample.map((m) => rowOf('msg-5k', m)));
    });

    it('saving the same batch twice keeps row ids and counts and does not rewrite unchanged rows', async () => {
      const list = messages('twice@c.us', 40);
      await storage.saveMessages('msg-twice', 'twice@c.us', list);
      const before = await versions('messages', 'msg-twice');
      expect(before).toHaveLength(40);

      const progress: number[] = [];
      const again = list.map((m) => ({ ...m, raw: JSON.parse(JSON.stringify(m.raw)) as Record<string, unknown> }));
      expect(await storage.saveMessages('msg-twice', 'twice@c.us', again, (n) => void progress.push(n))).toBe(40);
      expect(progress).toEqual([40]);
      expect(await versions('messages', 'msg-twice')).toEqual(before);
      expect(await count('messages', 'msg-twice')).toBe(40);
      // Not even locked (an ON CONFLICT that updates nothing still locks its row, and logs that).
      expect(await db.query(`SELECT count(*)::int AS n FROM messages WHERE session_id = 'msg-twice' AND xmax <> '0'`)).toEqual([{ n: 0 }]);

      // One changed message: only its row is rewritten, same id.
      expect(list[7].ack).toBe(3);
      const changed = list.map((m, i) => (i === 7 ? { ...m, ack: 4, body: 'edited', raw: { ...m.raw, ack: 4, body: 'edited' } } : m));
      await storage.saveMessages('msg-twice', 'twice@c.us', changed);
      const after = await versions('messages', 'msg-twice');
      expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
      const changedId = list[7].id;
      expect(after.filter((r) => r.wa_id !== changedId)).toEqual(before.filter((r) => r.wa_id !== changedId));
      const [oldRow] = before.filter((r) => r.wa_id === changedId);
      const [newRow] = after.filter((r) => r.wa_id === changedId);
      expect(BigInt(newRow.updated_at) > BigInt(oldRow.updated_at)).toBe(true);
      expect(newRow.xmin).not.toBe(oldRow.xmin);
      expect(await messageRows('msg-twice', [changedId])).toEqual([rowOf('msg-twice', changed[7])]);
    });

    it('keeps the last of duplicate ids inside one batch', async () => {
      const first = message('dup@c.us', 1, { body: 'first version' });
      const other = message('dup@c.us', 2);
      const last = message('dup@c.us', 1, { body: 'last version', ack: 3 });
      const progress: number[] = [];
      expect(await storage.saveMessages('msg-dup', 'dup@c.us', [first, other, last], (n) => void progress.push(n))).toBe(2);
      expect(progress).toEqual([2]);
      expect(await count('messages', 'msg-dup')).toBe(2);
      expect(await messageRows('msg-dup', [first.id, other.id])).toEqual([rowOf('msg-dup', last), rowOf('msg-dup', other)]);
    });

    it('reports 0 and sends no statement for an empty batch', async () => {
      const progress: number[] = [];
      expect(await storage.saveMessages('msg-empty', 'e@c.us', [], (n) => void progress.push(n))).toBe(0);
      expect(progress).toEqual([0]);
      expect(logger.count).toBe(0);
    });

    it('stores hostile values: NUL, lone surrogates, 100 KB, extreme timestamps, null author', async () => {
      const chatId = 'odd-1@g.us';
      const big = 'Ω'.repeat(50 * 1024) + 'x'.repeat(50 * 1024);
      const nul = message(chatId, 1, {
        body: 'be\u0000fore\u0000',
        raw: { body: 'be\u0000fore', 'ke\u0000y': 'va\u0000lue', deep: { list: ['a\u0000', { 'n\u0000': 1 }] } },
      });
      const surrogate = message(chatId, 2, { body: 'lone \uD800 high and \uDC00 low, pair 😀', raw: { text: 'x\uD83D', ok: '😀' } });
      const huge = message(chatId, 3, { body: big, raw: { body: big } });
      const zero = message(chatId, 4, { timestamp: 0 });
      const future = message(chatId, 5, { timestamp: 32503680000 });
      const noAuthor = message(chatId, 6, { author: null, fromMe: false });
      const withAuthor = message(chatId, 8, { author: 'au\u0000thor@c.us' });
      const all = [nul, surrogate, huge, zero, future, noAuthor, withAuthor];
      expect(await storage.saveMessages('msg-odd', chatId, all)).toBe(7);

      expect(await messageRows('msg-odd', all.map((m) => m.id))).toEqual([
        { ...rowOf('msg-odd', nul), body: 'before', raw: { body: 'before', key: 'value', deep: { list: ['a', { n: 1 }] } } },
        { ...rowOf('msg-odd', surrogate), body: 'lone \uFFFD high and \uFFFD low, pair 😀', raw: { text: 'x\uFFFD', ok: '😀' } },
        rowOf('msg-odd', huge),
        { ...rowOf('msg-odd', zero), timestamp: '0' },
        { ...rowOf('msg-odd', future), timestamp: '32503680000' },
        { ...rowOf('msg-odd', noAuthor), author: null },
        { ...rowOf('msg-odd', withAuthor), author: 'author@c.us' },
      ]);
      const [{ n }] = await db.query<{ n: number }>('SELECT length(body) AS n FROM messages WHERE session_id = $1 AND wa_id = $2', [
        'msg-odd',
        huge.id,
      ]);
      expect(n).toBe(100 * 1024);
    });

    it('stores invalid timestamps as 0 and truncates fractional ones', async () => {
      const list = [
        message('ts@c.us', 1, { timestamp: Number.NaN }),
        message('ts@c.us', 2, { timestamp: -5 }),
        message('ts@c.us', 3, { timestamp: 1764150000.75 }),
      ];
      await storage.saveMessages('msg-ts', 'ts@c.us', list);
      expect((await messageRows('msg-ts', list.map((m) => m.id))).map((r) => r.timestamp)).toEqual(['0', '0', '1764150000']);
    });
  });

  describe('data past what a column or a statement holds', () => {
    it('clamps an ack and an unread count past the integer range instead of failing', async () => {
      await storage.saveChats('range', [chat('big@c.us', { unreadCount: 3e9 }), chat('neg@c.us', { unreadCount: -3e9 })]);
      const list = [message('big@c.us', 1, { ack: 3e9 }), message('big@c.us', 2, { ack: -3e9 }), message('big@c.us', 3, { ack: Number.NaN })];
      expect(await storage.saveMessages('range', 'big@c.us', list)).toBe(3);
      expect(await db.query('SELECT wa_id, unread_count FROM chats WHERE session_id = $1 ORDER BY wa_id', ['range'])).toEqual([
        { wa_id: 'big@c.us', unread_count: 2147483647 },
        { wa_id: 'neg@c.us', unread_count: 0 },
      ]);
      expect((await messageRows('range', list.map((m) => m.id))).map((r) => r.ack)).toEqual([2147483647, -2147483648, 0]);
      await storage.updateMessageAck('range', list[2].id, 'big@c.us', 5e9);
      expect((await messageRows('range', [list[2].id])).map((r) => r.ack)).toEqual([2147483647]);
    });

    it('stores 1,400 messages of 100 KB (past jsonb_to_recordset\'s 256 MB) in statements of bounded size, in one transaction', async () => {
      const chatId = 'huge@c.us';
      const list = Array.from({ length: 1400 }, (_, n) => {
        const body = `${n} `.padEnd(100 * 1024, 'x');
        return message(chatId, n, { body, raw: { body } });
      });
      expect(await storage.saveMessages('huge', chatId, list)).toBe(1400);
      const statements = logger.queries.filter((q) => q === UPSERT_MESSAGES_SQL).length;
      expect(statements).toBeGreaterThan(1);
      expect(logger.queries).toEqual(['START TRANSACTION', ...Array.from({ length: statements }, () => UPSERT_MESSAGES_SQL), 'COMMIT']);
      expect(await db.query('SELECT count(*)::int AS n, sum(length(body))::int AS chars, count(DISTINCT xmin::text)::int AS txs FROM messages WHERE session_id = $1', ['huge'])).toEqual([
        { n: 1400, chars: 1400 * 100 * 1024, txs: 1 },
      ]);
    });
  });

  describe('a message id that several chats list', () => {
    const shared = (chatId: string, n: number) => message(chatId, n, { id: `false_shared@c.us_3EB0${String(n).padStart(8, '0')}`, body: `in ${chatId}` });

    it('is stored once, by the chat that stored it first; the other chats neither move, rewrite nor count it', async () => {
      const a = [shared('a@c.us', 1), shared('a@c.us', 2), message('a@c.us', 3)];
      const b = [shared('b@c.us', 2), shared('b@c.us', 1), message('b@c.us', 4)];
      expect(await storage.saveMessages('shared', 'a@c.us', a)).toBe(3);
      expect(await storage.saveMessages('shared', 'b@c.us', b)).toBe(1);
      const stored = await versions('messages', 'shared');
      expect(await db.query('SELECT wa_id, chat_id, body FROM messages WHERE session_id = $1 ORDER BY wa_id', ['shared'])).toEqual(
        [...a, b[2]]
          .map((m) => ({ wa_id: m.id, chat_id: m.chatId, body: m.body }))
          .sort((x, y) => (x.wa_id < y.wa_id ? -1 : 1)),
      );
      // Saved again, in either order: the same counts, and no row is written.
      expect(await storage.saveMessages('shared', 'b@c.us', b)).toBe(1);
      expect(await storage.saveMessages('shared', 'a@c.us', a)).toBe(3);
      expect(await versions('messages', 'shared')).toEqual(stored);
    });

    it('8 chats writing the same 1,500 ids at once, in alternating orders: no deadlock, each id counted by exactly one chat', async () => {
      const chats = Array.from({ length: 8 }, (_, c) => `many-${c}@c.us`);
      const lists = chats.map((chatId, c) => {
        const list = Array.from({ length: 1500 }, (_, n) => shared(chatId, n));
        return c % 2 === 0 ? list : list.reverse();
      });
      for (let round = 0; round < 2; round++) {
        const held = await Promise.all(chats.map((chatId, c) => storage.saveMessages('shared-8', chatId, lists[c])));
        expect(held.reduce((sum, n) => sum + n, 0)).toBe(1500);
        expect(held.filter((n) => n > 0)).toHaveLength(1);
      }
      expect(await count('messages', 'shared-8')).toBe(1500);
      expect(await db.query('SELECT count(DISTINCT chat_id)::int AS n FROM messages WHERE session_id = $1', ['shared-8'])).toEqual([{ n: 1 }]);
    });
  });

  describe('saveLiveMessage', () => {
    it('creates a placeholder chat for an unknown chat', async () => {
      const live = message('111-222@g.us', 1, { timestamp: BASE + 5 });
      await storage.saveLiveMessage('live-new', live);
      expect(
        await db.query(
          'SELECT wa_id, name, is_group, unread_count, timestamp, archived, pinned, raw FROM chats WHERE session_id = $1',
          ['live-new'],
        ),
      ).toEqual([
        { wa_id: '111-222@g.us', name: '111-222@g.us', is_group: true, unread_count: 0, timestamp: String(BASE + 5), archived: false, pinned: false, raw: {} },
      ]);
      expect(await messageRows('live-new', [live.id])).toEqual([rowOf('live-new', live)]);
      expect(await storage.chatExists('live-new', '111-222@g.us')).toBe(true);
    });

    it('keeps an existing chat\'s name and fields, moving its timestamp forward only', async () => {
      await storage.saveChats('live-old', [chat('333@c.us', { name: 'Carol', unreadCount: 4, pinned: true, timestamp: BASE })]);
      const newer = message('333@c.us', 2, { timestamp: BASE + 60 });
      await storage.saveLiveMessage('live-old', newer);
      const older = message('333@c.us', 4, { timestamp: BASE - 60 });
      await storage.saveLiveMessage('live-old', older);
      expect(
        await db.query('SELECT wa_id, name, is_group, unread_count, timestamp, pinned, raw FROM chats WHERE session_id = $1', ['live-old']),
      ).toEqual([
        { wa_id: '333@c.us', name: 'Carol', is_group: false, unread_count: 4, timestamp: String(BASE + 60), pinned: true, raw: chat('333@c.us', { name: 'Carol', unreadCount: 4, pinned: true }).raw },
      ]);
      expect(await messageRows('live-old', [newer.id, older.id])).toEqual([rowOf('live-old', newer), rowOf('live-old', older)]);
      expect(await count('chats', 'live-old')).toBe(1);
    });

    it('refuses a live message of a chat whose id cannot be stored, and stores nothing', async () => {
      const chatId = `${'1'.repeat(1020)}@c.us`;
      await expect(storage.saveLiveMessage('live-long', message(chatId, 1))).rejects.toThrow(
        new Error('chat id is empty or longer than 1024 bytes (1025); not stored'),
      );
      expect(await count('chats', 'live-long')).toBe(0);
      expect(await count('messages', 'live-long')).toBe(0);
      const longest = message(`${'1'.repeat(1019)}@c.us`, 1);
      await storage.saveLiveMessage('live-long', longest);
      expect(await messageRows('live-long', [longest.id])).toEqual([rowOf('live-long', longest)]);
    });

    it('stores the same live message once', async () => {
      const live = message('444@c.us', 1);
      await storage.saveLiveMessage('live-twice', live);
      await storage.saveLiveMessage('live-twice', live);
      expect(await count('messages', 'live-twice')).toBe(1);
      expect(await count('chats', 'live-twice')).toBe(1);
    });
  });

  describe('purgeSession', () => {
    it('removes only that session\'s chats, messages and sync runs', async () => {
      for (const sessionId of ['purge-me', 'keep-me']) {
        await storage.saveChats(sessionId, [chat('p@c.us'), chat('q@c.us')]);
        await storage.saveMessages(sessionId, 'p@c.us', messages('p@c.us', 30));
        await db.query(
          `INSERT INTO sync_runs (session_id, status, limit_per_chat, n_chats, current_chat, messages_synced, chats_failed, started_at)
           VALUES ($1, 'done', 100, 2, 2, 30, 0, now())`,
          [sessionId],
        );
      }
      await storage.purgeSession('purge-me');
      expect([await count('chats', 'purge-me'), await count('messages', 'purge-me'), await count('sync_runs', 'purge-me')]).toEqual([0, 0, 0]);
      expect([await count('chats', 'keep-me'), await count('messages', 'keep-me'), await count('sync_runs', 'keep-me')]).toEqual([2, 30, 1]);
      // Purging again, or an unknown session, is harmless.
      await storage.purgeSession('purge-me');
      await storage.purgeSession('never-existed');
      expect(await count('messages', 'keep-me')).toBe(30);
    });
  });

  describe('listMessages', () => {
    it('pages newest first by (timestamp, id) and returns every message once', async () => {
      const chatId = 'page@c.us';
      // Three messages share each timestamp, so the row id must break ties; stored out of order.
      const list = Array.from({ length: 25 }, (_, n) => message(chatId, n, { timestamp: BASE + Math.floor(n / 3) }));
      await storage.saveMessages('pages', chatId, [...list.slice(12), ...list.slice(0, 12)]);
      await storage.saveMessages('pages', 'other@c.us', messages('other@c.us', 5));
      await storage.saveMessages('pages-other', chatId, messages(chatId, 5));

      const expected = await db.query<{ id: string; wa_id: string; timestamp: string }>(
        'SELECT id::text, wa_id, timestamp::text FROM messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp DESC, id DESC',
        ['pages', chatId],
      );
      expect(expected).toHaveLength(25);

      const pages: string[][] = [];
      let before: MessageCursor | null = null;
      for (;;) {
        const page = await storage.listMessages('pages', chatId, 7, before);
        pages.push(page.map((m) => m.waId));
        for (const m of page) {
          expect(m.sessionId).toBe('pages');
          expect(m.chatId).toBe(chatId);
          expect(typeof m.timestamp).toBe('number');
          expect(typeof m.id).toBe('number');
        }
        if (page.length < 7) break;
        const oldest = page[page.length - 1];
        // Through the opaque form, as a client would.
        before = decodeCursor(encodeCursor({ timestamp: oldest.timestamp, id: oldest.id }));
      }
      expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
      expect(pages.flat()).toEqual(expected.map((r) => r.wa_id));
      expect(new Set(pages.flat()).size).toBe(25);
    });

    it('returns exactly the page after a cursor, and nothing for an exhausted cursor or unknown chat', async () => {
      const chatId = 'cur@c.us';
      const list = Array.from({ length: 6 }, (_, n) => message(chatId, n));
      await storage.saveMessages('cursor', chatId, list);
      const firstPage = await storage.listMessages('cursor', chatId, 2, null);
      expect(firstPage.map((m) => m.waId)).toEqual([list[5].id, list[4].id]);
      const second = await storage.listMessages('cursor', chatId, 2, { timestamp: firstPage[1].timestamp, id: firstPage[1].id });
      expect(second.map((m) => m.waId)).toEqual([list[3].id, list[2].id]);
      expect(second[0]).toMatchObject({
        waId: list[3].id,
        chatId,
        fromMe: list[3].fromMe,
        author: null,
        body: list[3].body,
        type: list[3].type,
        timestamp: list[3].timestamp,
        hasMedia: list[3].hasMedia,
        ack: list[3].ack,
        raw: list[3].raw,
      });
      expect(await storage.listMessages('cursor', chatId, 10, { timestamp: 0, id: 0 })).toEqual([]);
      expect(await storage.listMessages('cursor', 'nobody@c.us', 10, null)).toEqual([]);
    });
  });
});
