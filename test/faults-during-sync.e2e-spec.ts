import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawObject } from '../src/whatsapp/client/whatsapp.types';
import { SimulatedAccount, SimulatedAccountSpec, SimulatedChat, accountFromSpec, parseAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WhatsappWebService } from '../src/whatsapp/whatsapp-web.service';
import { ADMIN_URL_VAR, adminQuery } from './setup/test-postgres';
import { chat, messagesFor, seedAccount } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TestDatabase } from './support/test-database';
import { TestApp, emitWithAck } from './support/test-app';
import { gate, waitFor } from './support/wait';

/**
 * Issue #6, faults: WhatsApp data PostgreSQL refuses as it is, concurrent triggers, sockets, the
 * session and the database going away mid-run, and the process being stopped mid-run.
 */

const OK = { success: true, message: 'Synchronization completed successfully' };

interface RunView {
  syncId: string;
  status: string;
  nChats: number;
  currentChat: number;
  messagesSynced: number;
  chatsFailed: number;
  finishedAt: string | null;
  error?: string;
}

/** Seed chats, with the third given messages so that every chat's second event says something. */
function threeChats(): SimulatedAccountSpec {
  const account = seedAccount();
  account.chats[2] = chat('chat3@g.us', 10, { name: 'Team', isGroup: true, timestamp: 1_764_150_000 - 200 });
  return account;
}

describe('faults during a sync', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: threeChats() });
  });
  afterEach(() => {
    t.whatsapp.account = accountFromSpec(threeChats());
    t.whatsapp.beforeFetch = undefined;
  });
  afterAll(() => t?.close());

  async function latest(sessionId: string): Promise<RunView> {
    const answer = await t.request<RunView>('GET', `/whatsapp-web/session/${sessionId}/sync-chats/latest`);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  async function messagesPerChat(sessionId: string): Promise<Record<string, number>> {
    const rows = await t.db.query<{ chat_id: string; n: number }>(
      'SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id',
      [sessionId],
    );
    return Object.fromEntries(rows.map((r) => [r.chat_id, r.n]));
  }

  /** Holds the fetch of `chatId`'s messages in `sessionId` until the returned gate opens. */
  /** Chats of the session whose fetch started, since the last holdFetch or trackFetches. */
  let fetched = new Set<string>();

  function trackFetches(sessionId: string): void {
    fetched = new Set();
    t.whatsapp.beforeFetch = (session, chat) => void (session === sessionId && fetched.add(chat));
  }

  function holdFetch(sessionId: string, chatId: string): { open: () => void; reached: () => boolean } {
    const hold = gate();
    let reached = false;
    fetched = new Set();
    t.whatsapp.beforeFetch = (session, chat) => {
      if (session === sessionId) fetched.add(chat);
      if (session !== sessionId || chat !== chatId) return undefined;
      reached = true;
      return hold.promise;
    };
    return { open: hold.open, reached: () => reached };
  }

  describe('WhatsApp data that PostgreSQL refuses as it is', () => {
    const chatId = 'odd-1@g.us';
    const big = 'Ω'.repeat(50 * 1024) + 'x'.repeat(50 * 1024);

    /**
     * The odd chat as whatsapp-web.js could hand it over: NULs and lone surrogates in the body, the
     * author, the chat's name and the raw object (keys included), a 100 KB body, timestamps of 0 and
     * far in the future. Then a chat of messages missing every optional field, then a plain chat.
     */
    function hostileAccount(): SimulatedAccount {
      const [nul, surrogate, huge, zero, future, author, maxSafe, normal] = messagesFor(chatId, 8);
      const rawExtras = new Map<string, RawObject>([
        [nul.id, { 'ke\u0000y': 'va\u0000lue', deep: { list: ['a\u0000', { 'n\u0000': 1 }] } }],
        [surrogate.id, { quoted: 'x\uD83D' }],
      ]);
      const specs = [
        { ...nul, body: 'be\u0000fore\u0000 after' },
        { ...surrogate, body: 'lone \uD800 high, \uDC00 low, pair 😀' },
        { ...huge, body: big },
        { ...zero, timestamp: 0 },
        { ...future, timestamp: 32_503_680_000 },
        { ...author, author: 'au\u0000thor@c.us' },
        { ...maxSafe, timestamp: Number.MAX_SAFE_INTEGER },
        normal,
      ];
      const odd = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat(chatId, 0, { name: 'Odd\u0000 group \uD83D', messages: specs })] }).chats[0];
      const withRaw: SimulatedChat = {
        chat: odd.chat,
        failFetch: false,
        newestMessages: (limit) => odd.newestMessages(limit).map((m) => ({ ...m, raw: { ...m.raw, ...rawExtras.get(m.id) } })),
      };
      const sparse = parseAccountSpec(
        { chats: [{ id: 'sparse@c.us', messages: [{ id: 'false_sparse@c.us_3EB0SPARSE01' }, { id: 'true_sparse@c.us_3EB0SPARSE02', fromMe: true, body: 'only a body' }] }] },
        'test',
      ).chats[0];
      const rest = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [sparse, chat('after@c.us', 5)] }).chats;
      return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [withRaw, ...rest] };
    }

    it('a sync stores every such message (NUL removed, lone surrogates replaced, nothing else lost) and fails no chat', async () => {
      t.whatsapp.account = hostileAccount();
      await t.readySession('odd');
      const { log } = await t.joined('odd');

      const answer = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd/sync-chats');
      await log.waitFor('sync_chats_done');

      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: { ...OK, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 15, messagesInserted: 15, syncId: expect.any(String), durationMs: expect.any(Number) },
      });
      expect(log.of('sync_chats').filter((e) => 'error' in e)).toEqual([]);
      expect(await messagesPerChat('odd')).toEqual({ [chatId]: 8, 'after@c.us': 5, 'sparse@c.us': 2 });

      const [nul, surrogate, huge, zero, future, author, maxSafe, normal] = messagesFor(chatId, 8);
      const rows = await t.db.query<Record<string, unknown>>(
        `SELECT wa_id, from_me, author, body, type, timestamp, has_media, ack, raw FROM messages WHERE session_id = 'odd' AND chat_id = $1 ORDER BY wa_id`,
        [chatId],
      );
      const byId = new Map(rows.map((row) => [row.wa_id, row]));
      expect(byId.get(nul.id)).toMatchObject({ body: 'before after', raw: { body: 'before after', key: 'value', deep: { list: ['a', { n: 1 }] }, id: nul.id } });
      expect(byId.get(surrogate.id)).toMatchObject({ body: 'lone \uFFFD high, \uFFFD low, pair 😀', raw: { quoted: 'x\uFFFD', body: 'lone \uFFFD high, \uFFFD low, pair 😀' } });
      expect(byId.get(huge.id)).toMatchObject({ body: big, raw: { body: big } });
      expect(byId.get(zero.id)).toMatchObject({ timestamp: '0', body: zero.body });
      expect(byId.get(future.id)).toMatchObject({ timestamp: '32503680000', body: future.body });
      expect(byId.get(author.id)).toMatchObject({ author: 'author@c.us', raw: { author: 'author@c.us' } });
      expect(byId.get(maxSafe.id)).toMatchObject({ timestamp: String(Number.MAX_SAFE_INTEGER) });
      expect(byId.get(normal.id)).toEqual({
        wa_id: normal.id,
        from_me: normal.fromMe,
        author: normal.author,
        body: normal.body,
        type: 'chat',
        timestamp: String(normal.timestamp),
        has_media: false,
        ack: normal.ack,
        raw: { ...normal, from: normal.fromMe ? 'me' : chatId, to: normal.fromMe ? chatId : 'me' },
      });
      expect(await t.db.query(`SELECT wa_id, name, raw->>'name' AS raw_name FROM chats WHERE session_id = 'odd' ORDER BY wa_id`)).toEqual([
        { wa_id: 'after@c.us', name: 'Name of after@c.us', raw_name: 'Name of after@c.us' },
        { wa_id: chatId, name: 'Odd group \uFFFD', raw_name: 'Odd group \uFFFD' },
        { wa_id: 'sparse@c.us', name: 'sparse@c.us', raw_name: 'sparse@c.us' },
      ]);
      // Missing optional fields take the defaults of the account format.
      expect(
        await t.db.query(`SELECT wa_id, from_me, author, body, type, timestamp, has_media, ack FROM messages WHERE session_id = 'odd' AND chat_id = 'sparse@c.us' ORDER BY wa_id`),
      ).toEqual([
        { wa_id: 'false_sparse@c.us_3EB0SPARSE01', from_me: false, author: null, body: '', type: 'chat', timestamp: '0', has_media: false, ack: 0 },
        { wa_id: 'true_sparse@c.us_3EB0SPARSE02', from_me: true, author: null, body: 'only a body', type: 'chat', timestamp: '0', has_media: false, ack: 0 },
      ]);

      // And they read back through the API, the 100 KB body whole.
      const page = await t.request<{ messages: Array<{ id: string; body: string; timestamp: number }> }>('GET', `/whatsapp-web/session/odd/chats/${chatId}/messages?limit=500`);
      expect(page.status).toBe(200);
      expect(page.body.messages.map((m) => m.id)).toEqual([maxSafe.id, future.id, normal.id, author.id, huge.id, surrogate.id, nul.id, zero.id]);
      expect(page.body.messages.find((m) => m.id === huge.id)!.body).toHaveLength(100 * 1024);

      // A second sync of the same data changes nothing.
      const before = await t.db.query('SELECT id, updated_at FROM messages WHERE session_id = $1 ORDER BY id', ['odd']);
      expect((await t.request('POST', '/whatsapp-web/session/odd/sync-chats')).status).toBe(200);
      expect(await t.db.query('SELECT id, updated_at FROM messages WHERE session_id = $1 ORDER BY id', ['odd'])).toEqual(before);
    });

    it('a timestamp beyond what PostgreSQL\'s bigint holds does not fail the chat or the run', async () => {
      const [first] = messagesFor('huge-ts@c.us', 1);
      t.whatsapp.account = accountFromSpec({
        scanAfterMs: 0,
        fetchLatencyMs: 0,
        chats: [chat('huge-ts@c.us', 0, { messages: [{ ...first, timestamp: 1e19 }] }), chat('after@c.us', 5)],
      });
      await t.readySession('odd-ts');

      const answer = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd-ts/sync-chats');

      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 200,
        body: { ...OK, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 2, chatsFailed: 0, messagesSynced: 6, messagesInserted: 6, syncId: expect.any(String), durationMs: expect.any(Number) },
      });
      const [row] = await t.db.query<{ body: string; timestamp: string }>(`SELECT body, timestamp FROM messages WHERE session_id = 'odd-ts' AND wa_id = $1`, [first.id]);
      expect(row.body).toBe(first.body);
      // Treated as unknown (0), as other impossible values are.
      expect(row.timestamp).toBe('0');
    });
  });

  describe('concurrent triggers', () => {
    it('POST, GET chats and POST again at once: one run, and every trigger gets its result', async () => {
      await t.readySession('tri');
      const { log } = await t.joined('tri');
      const hold = holdFetch('tri', 'chat1@c.us');
      const service = t.app.get(WhatsappWebService);
      const calls = jest.spyOn(service, 'syncChatsWithProgress');

      const triggers = Promise.all([
        t.request<{ syncId: string }>('POST', '/whatsapp-web/session/tri/sync-chats'),
        t.request<Array<{ id: string }>>('GET', '/whatsapp-web/session/tri/chats'),
        t.request<{ syncId: string }>('POST', '/whatsapp-web/session/tri/sync-chats?limitPerChat=5'),
        t.request<Array<{ id: string }>>('GET', '/whatsapp-web/session/tri/chats?limitPerChat=7'),
      ]);
      await waitFor(() => calls.mock.calls.filter(([id]) => id === 'tri').length === 4 && hold.reached(), 'every trigger to reach the service');
      hold.open();
      const [a, b, c, d] = await triggers;
      calls.mockRestore();

      expect([a.status, b.status, c.status, d.status]).toEqual([200, 200, 200, 200]);
      expect(c.body).toEqual(a.body);
      expect(b.body.map((x) => x.id)).toEqual(['chat1@c.us', 'chat2@c.us', 'chat3@g.us']);
      expect(d.body.map((x) => x.id)).toEqual(['chat1@c.us', 'chat2@c.us', 'chat3@g.us']);
      expect(await t.db.query('SELECT id, limit_per_chat FROM sync_runs WHERE session_id = $1', ['tri'])).toEqual([{ id: a.body.syncId, limit_per_chat: 100 }]);
      await log.waitFor('sync_chats_done');
      expect(log.of('sync_chats')).toHaveLength(7);
      expect(log.of('sync_chats_done')).toHaveLength(1);
      expect(await t.db.counts('tri')).toEqual({ sessions: 1, chats: 3, messages: 135, sync_runs: 1 });
    });
  });

  describe('a Socket.IO client that disconnects mid-run', () => {
    it('the run finishes without it; reconnecting and joining again gives the latest progress at once, then the rest', async () => {
      await t.readySession('gone');
      const { socket, log } = await t.joined('gone');
      const second = gate();
      const third = gate();
      t.whatsapp.beforeFetch = (session, chatId) => (session !== 'gone' ? undefined : chatId === 'chat2@c.us' ? second.promise : chatId === 'chat3@g.us' ? third.promise : undefined);

      const answer = t.request<{ syncId: string; messagesSynced: number }>('POST', '/whatsapp-web/session/gone/sync-chats');
      await waitFor(() => log.of('sync_chats').length === 4, 'chat 2 saved');
      socket.disconnect();
      second.open();
      // The run goes on while nobody listens: chat 2 is stored, chat 3 saved and held.
      await waitFor(async () => (await latest('gone')).currentChat === 3, 'chat 3 reached');
      const seenBefore = log.events.length;

      socket.connect();
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'gone' })).toEqual({ ok: true });
      await waitFor(() => log.of('sync_chats').length === 5, 'the latest progress on joining');
      expect(log.events.slice(seenBefore)).toEqual([
        { event: 'session_status', payload: { sessionId: 'gone', status: 'ready' } },
        { event: 'sync_chats', payload: { sessionId: 'gone', nChats: 3, currentChat: 3, chatId: 'chat3@g.us', messagesSynced: 0 } },
      ]);
      third.open();
      const result = await answer;
      await log.waitFor('sync_chats_done');

      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({ ...OK, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 135 });
      expect(log.of('sync_chats').map((e) => [e.currentChat, e.messagesSynced])).toEqual([
        [0, 0],
        [1, 0],
        [1, 50],
        [2, 0],
        [3, 0],
        [3, 10],
      ]);
      expect(await messagesPerChat('gone')).toEqual({ 'chat1@c.us': 50, 'chat2@c.us': 75, 'chat3@g.us': 10 });
      expect((await latest('gone')).status).toBe('done');
    });
  });

  describe.each([
    ['is stopped', 'stopped', (id: string) => t.request('POST', `/whatsapp-web/session/${id}/stop`).then((a) => expect(a.status).toBe(200))],
    ['disconnects', 'disconnected', async (id: string) => t.whatsapp.clientOf(id)!.disconnect('phone offline')],
  ])('the session %s mid-run', (_what, status, leave) => {
    const id = `left-${status}`;

    it('the run ends failed with a clear error and sync_chats_failed; what was stored stays; after a restart a new sync completes', async () => {
      await t.readySession(id);
      const { socket, log } = await t.joined(id);
      const hold = holdFetch(id, 'chat2@c.us');

      const answer = t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats`);
      await waitFor(() => hold.reached() && log.of('sync_chats').length === 4, 'chat 2 being fetched');
      // Chat 3 is fetched ahead while chat 2 is held, but written only in its turn, after chat 2.
      await waitFor(() => fetched.has('chat3@g.us'), 'chat 3 fetched ahead');
      expect(await messagesPerChat(id)).toEqual({ 'chat1@c.us': 50 });
      await leave(id);
      await waitFor(async () => (await t.request<{ status: string }>('GET', `/whatsapp-web/session/${id}`)).body.status === status, `${id} ${status}`);
      hold.open();
      const failed = await answer;
      await log.waitFor('sync_chats_failed');

      const error = `session ${id} is no longer ready (status: ${status})`;
      expect({ status: failed.status, body: failed.body }).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: `Synchronization failed: ${error}` },
      });
      const run = await latest(id);
      expect(log.of('sync_chats_failed')).toEqual([{ sessionId: id, syncId: run.syncId, error }]);
      expect(log.of('sync_chats_done')).toEqual([]);
      expect(run).toMatchObject({ status: 'failed', error, nChats: 3, currentChat: 2, messagesSynced: 50, finishedAt: expect.any(String) });
      // Progress never went backwards, and the failure is the last word of the run.
      const fractions = log.of<{ currentChat: number; nChats: number }>('sync_chats').map((e) => e.currentChat / e.nChats);
      expect(fractions).toEqual([...fractions].sort((x, y) => x - y));
      expect(log.events.map((e) => e.event).filter((e) => e.startsWith('sync_chats')).pop()).toBe('sync_chats_failed');
      // What was stored stays: every chat row and chat 1's messages; nothing was written after the run ended.
      expect(await t.db.counts(id)).toEqual({ sessions: 1, chats: 3, messages: 50, sync_runs: 1 });
      expect(await messagesPerChat(id)).toEqual({ 'chat1@c.us': 50 });

      // A sync now is refused, naming the status; after a restart one completes.
      const refused = await t.request('POST', `/whatsapp-web/session/${id}/sync-chats`);
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 409,
        body: { statusCode: 409, error: 'Conflict', message: `Session ${id} is not ready (status: ${status})` },
      });
      await t.readySession(id);
      const again = await t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats`);
      expect({ status: again.status, body: again.body }).toEqual({
        status: 200,
        body: { ...OK, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 135, messagesInserted: 85, syncId: expect.any(String), durationMs: expect.any(Number) },
      });
      expect(await t.db.counts(id)).toEqual({ sessions: 1, chats: 3, messages: 135, sync_runs: 2 });
      expect(await latest(id)).toMatchObject({ status: 'done', currentChat: 3, messagesSynced: 135 });
      await emitWithAck(socket, 'leave-session', { sessionId: id });
    });
  });

  describe('the database drops its connections mid-run', () => {
    const BIG = 5000;
    /** A chat of more than one upsert batch (2,000 rows), so that its write is a transaction of several statements. */
    const bigAccount = (): SimulatedAccountSpec => ({ ...threeChats(), chats: [chat('small@c.us', 20), chat('big@c.us', BIG), chat('last@c.us', 3)] });
    const LOCK = 4_242_424;

    /** The app's connections to the test database; the test's own is spared. */
    async function terminateAppConnections(): Promise<number> {
      const rows = await t.db.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      return rows[0].n;
    }

    afterEach(async () => {
      await t.db.query('DROP TRIGGER IF EXISTS hold_big_chat ON messages');
      await t.db.query('SELECT pg_advisory_unlock_all()');
      await adminQuery(process.env[ADMIN_URL_VAR]!, `ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS true`);
    });

    it('dropped while the run waits on WhatsApp (no statement running): the run recovers or fails cleanly, and the next sync completes', async () => {
      await t.readySession('pgidle');
      const { log } = await t.joined('pgidle');
      const hold = holdFetch('pgidle', 'chat2@c.us');
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgidle/sync-chats');
      await waitFor(() => hold.reached() && log.of('sync_chats').length === 4, 'chat 2 being fetched');
      await waitFor(() => fetched.has('chat3@g.us'), 'chat 3 fetched ahead');

      expect(await terminateAppConnections()).toBeGreaterThan(0);
      hold.open();
      const first = await answer;

      // Whether the pool notices the dead connections before the next write uses one is a race: the
      // run either completes, or fails as a whole with the database's error, never half-way.
      if (first.status === 200) {
        expect(first.body).toMatchObject({ ...OK, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 135 });
        expect(log.of('sync_chats_failed')).toEqual([]);
        expect(await latest('pgidle')).toMatchObject({ status: 'done', messagesSynced: 135 });
      } else {
        expect({ status: first.status, body: first.body }).toEqual({
          status: 503,
          body: { statusCode: 503, error: 'Service Unavailable', message: 'Synchronization failed: terminating connection due to administrator command' },
        });
        await log.waitFor('sync_chats_failed');
        const [event] = log.of<{ syncId: string; error: string }>('sync_chats_failed');
        expect(event.error).toBe('terminating connection due to administrator command');
        expect(await latest('pgidle')).toMatchObject({ syncId: event.syncId, status: 'failed', error: event.error, finishedAt: expect.any(String) });
      }
      const stored = await messagesPerChat('pgidle');
      expect(stored['chat1@c.us']).toBe(50);
      // Chats 2 and 3 are written side by side after the kill, each whole or not at all (either may
      // draw a dead connection); both when the run completed.
      expect([undefined, 75]).toContain(stored['chat2@c.us']);
      expect([undefined, 10]).toContain(stored['chat3@g.us']);
      if (first.status === 200) expect(stored).toEqual({ 'chat1@c.us': 50, 'chat2@c.us': 75, 'chat3@g.us': 10 });
      expect((await t.request('GET', '/health')).status).toBe(200);

      const again = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgidle/sync-chats');
      expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 135 } });
      expect(await t.db.counts('pgidle')).toEqual({ sessions: 1, chats: 3, messages: 135, sync_runs: 2 });
    });

    it('killed in the middle of a chat\'s multi-statement write: none of that chat is stored, the run fails cleanly, the next sync completes', async () => {
      t.whatsapp.account = accountFromSpec(bigAccount());
      trackFetches('pgkill');
      await t.readySession('pgkill');
      const { log } = await t.joined('pgkill');
      // The big chat's second batch blocks on a lock the test holds: its first 2,000 rows are written, not committed.
      await t.db.query('SELECT pg_advisory_lock($1)', [LOCK]);
      await t.db.query(`
        CREATE OR REPLACE FUNCTION hold_big_chat() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_lock_shared(${LOCK}); PERFORM pg_advisory_unlock_shared(${LOCK}); RETURN NEW; END $$`);
      await t.db.query(`
        CREATE TRIGGER hold_big_chat BEFORE INSERT ON messages FOR EACH ROW
        WHEN (NEW.wa_id = '${messagesFor('big@c.us', BIG)[2500].id}') EXECUTE FUNCTION hold_big_chat()`);

      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgkill/sync-chats?limitPerChat=10000');
      await waitFor(async () => {
        const waiting = await t.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`, [LOCK]);
        return waiting.length === 1;
      }, 'the big chat\'s write to wait inside its transaction');
      // The last chat is fetched meanwhile (the sync works ahead) and, sharing no message with the big
      // one, written beside it: whole, before its turn is reported. The big one's rows are not committed.
      await waitFor(async () => (await messagesPerChat('pgkill'))['last@c.us'] === 3, 'the last chat written beside the big one');
      expect(await messagesPerChat('pgkill')).toEqual({ 'small@c.us': 20, 'last@c.us': 3 });
      expect(await terminateAppConnections()).toBeGreaterThan(0);
      await t.db.query('SELECT pg_advisory_unlock($1)', [LOCK]);
      const failed = await answer;
      await log.waitFor('sync_chats_failed');

      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/^Synchronization failed: .+/) });
      const [event] = log.of<{ error: string }>('sync_chats_failed');
      expect(`Synchronization failed: ${event.error}`).toBe((failed.body as { message: string }).message);
      // All or nothing per chat: the small and last chats are whole, the big one absent, never 2,000 of 5,000.
      expect(await messagesPerChat('pgkill')).toEqual({ 'small@c.us': 20, 'last@c.us': 3 });
      const health = await t.request('GET', '/health');
      expect({ status: health.status, body: health.body }).toEqual({ status: 200, body: { status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) } });
      expect(await latest('pgkill')).toMatchObject({ status: 'failed', error: event.error, finishedAt: expect.any(String) });

      await t.db.query('DROP TRIGGER hold_big_chat ON messages');
      const again = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgkill/sync-chats?limitPerChat=10000');
      expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 3, chatsFailed: 0, messagesSynced: BIG + 23 } });
      expect(await messagesPerChat('pgkill')).toEqual({ 'small@c.us': 20, 'big@c.us': BIG, 'last@c.us': 3 });
    });

    it('an outage (connections dropped and refused) during a run: the run fails, the service stays up, /health shows the outage and the recovery', async () => {
      await t.readySession('pgdown');
      const { log } = await t.joined('pgdown');
      const hold = holdFetch('pgdown', 'chat2@c.us');
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgdown/sync-chats');
      await waitFor(() => hold.reached() && log.of('sync_chats').length === 4, 'chat 2 being fetched');

      await waitFor(() => fetched.has('chat3@g.us'), 'chat 3 fetched ahead');
      await adminQuery(process.env[ADMIN_URL_VAR]!, `ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS false`);
      await terminateAppConnections();
      const down = await t.request('GET', '/health');
      expect({ status: down.status, body: down.body }).toEqual({
        status: 503,
        // Open to anyone: nothing about the database but that it is down (the reason is logged).
        body: { status: 'error', database: 'down', uptimeSeconds: expect.any(Number) },
      });
      hold.open();
      const failed = await answer;
      await log.waitFor('sync_chats_failed');
      expect(failed.status).toBe(503);
      expect(failed.body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/^Synchronization failed: /) });
      const [{ syncId, error }] = log.of<{ syncId: string; error: string }>('sync_chats_failed');
      expect((failed.body as { message: string }).message).toBe(`Synchronization failed: ${error}`);

      // Meanwhile the service answers: what needs the database says 503, Socket.IO goes on.
      for (const path of ['/whatsapp-web/sessions', '/whatsapp-web/session/pgdown/sync-chats/latest', '/whatsapp-web/session/pgdown/chats?sync=false']) {
        const answer = await t.request('GET', path);
        expect({ path, status: answer.status, body: answer.body }).toEqual({
          path,
          status: 503,
          body: { statusCode: 503, error: 'Service Unavailable', message: 'The database is unavailable; try again later' },
        });
      }
      const socket = await t.socket();
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'pgdown' })).toEqual({ ok: true });

      await adminQuery(process.env[ADMIN_URL_VAR]!, `ALTER DATABASE ${t.db.name} ALLOW_CONNECTIONS true`);
      await waitFor(async () => (await t.request('GET', '/health')).status === 200, '/health to show the recovery');
      expect((await t.request('GET', '/health')).body).toEqual({ status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) });
      const afterRecovery = await latest('pgdown');
      // What was stored before the outage stays; chat 2, whose write found no database, is absent, not partial.
      expect(await messagesPerChat('pgdown')).toEqual({ 'chat1@c.us': 50 });
      const again = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pgdown/sync-chats');
      expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 135 } });
      expect(await t.db.counts('pgdown')).toEqual({ sessions: 1, chats: 3, messages: 135, sync_runs: 2 });

      // The run that failed is not shown as still going once the database is back.
      expect(afterRecovery).toMatchObject({ syncId, status: 'failed', error, finishedAt: expect.any(String) });
      // The row is brought up to date by the service's background retry once the database is back.
      await waitFor(async () => (await t.db.query<{ status: string }>('SELECT status FROM sync_runs WHERE id = $1', [syncId]))[0].status === 'failed', 'the failed run stored', 15_000);
      expect(await t.db.query('SELECT status, error FROM sync_runs WHERE id = $1', [syncId])).toEqual([{ status: 'failed', error }]);
    });
  });
});

describe('the process is stopped mid-run (SIGTERM)', () => {
  let db: TestDatabase;
  let service: ServiceProcess | undefined;
  const CHATS = 60;
  const dir = mkdtempSync(join(tmpdir(), 'wa-sigterm-'));

  beforeAll(async () => {
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    service?.kill();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM stops a running sync at its next chat, recorded interrupted and answered 503; after a restart a new sync completes', async () => {
    const accountFile = join(dir, 'account.json');
    // Slow enough (60 chats, 100 ms a fetch, one at a time) that the run is surely going when the signal comes.
    writeFileSync(
      accountFile,
      JSON.stringify({ scanAfterMs: 0, fetchLatencyMs: 100, chats: Array.from({ length: CHATS }, (_, n) => chat(`${1000 + n}@c.us`, 5)) }),
    );
    const env = { DATABASE_URL: db.url, WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, SYNC_FETCH_CONCURRENCY: '1', DB_POOL_SIZE: '3' };
    const first = await ServiceProcess.start(env);
    service = first;
    const call = (base: string, method: string, path: string) => fetch(`${base}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

    expect((await call(first.baseUrl, 'POST', '/whatsapp-web/session/term/start')).status).toBe(201);
    await waitFor(async () => (await call(first.baseUrl, 'GET', '/whatsapp-web/session/term')).body.status === 'ready', 'term ready');
    const running = call(first.baseUrl, 'POST', '/whatsapp-web/session/term/sync-chats').catch((error: Error) => ({ status: 0, body: { error: error.message } }));
    let atSignal = 0;
    await waitFor(async () => {
      const { body } = await call(first.baseUrl, 'GET', '/whatsapp-web/session/term/sync-chats/latest');
      atSignal = body.currentChat as number;
      return body.status === 'running' && atSignal >= 3;
    }, 'the run to be going');

    const exit = await first.stop('SIGTERM');
    const interrupted = await running;

    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(15_000);
    // The run stopped at its next chat, within the drain of requests in flight, and answered so.
    expect(interrupted).toEqual({
      status: 503,
      body: { statusCode: 503, error: 'Service Unavailable', message: 'Synchronization failed: the service is shutting down' },
    });
    const [row] = await db.query<{ status: string; current_chat: number; chats_failed: number; error: string }>(
      `SELECT status, current_chat, chats_failed, error FROM sync_runs WHERE session_id = 'term'`,
    );
    expect({ status: row.status, error: row.error }).toEqual({ status: 'interrupted', error: 'the service is shutting down' });
    // One fetch (100 ms) at most went on after the signal: the run did not run on through the drain.
    expect(row.current_chat).toBeLessThanOrEqual(atSignal + 2);
    // No chat is blamed for the shutdown.
    expect(row.chats_failed).toBe(0);

    const second = await ServiceProcess.start(env);
    service = second;
    const latestRun = await call(second.baseUrl, 'GET', '/whatsapp-web/session/term/sync-chats/latest');
    expect(latestRun.status).toBe(200);
    expect(latestRun.body).toMatchObject({ status: 'interrupted', error: 'the service is shutting down', finishedAt: expect.any(String) });
    expect(latestRun.body.status).not.toBe('running');

    // The session comes back (its login was in memory, so through a new simulated scan) and syncs to the end.
    await waitFor(async () => (await call(second.baseUrl, 'GET', '/whatsapp-web/session/term')).body.status === 'ready', 'term ready again', 20_000);
    const done = await call(second.baseUrl, 'POST', '/whatsapp-web/session/term/sync-chats?limitPerChat=5');
    expect(done).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: CHATS, chatsFailed: 0, messagesSynced: CHATS * 5 } });
    expect(await db.counts('term')).toEqual({ sessions: 1, chats: CHATS, messages: CHATS * 5, sync_runs: 2 });

    const stopped = await second.stop('SIGTERM');
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 0, signal: null });
    service = undefined;
  }, 60_000);
});

describe('the application is closed during a sync, with a busy socket in the room', () => {
  it('the run stops at its next chat, and the room gets every event of it, to its sync_chats_failed, before its connection closes', async () => {
    const db = await TestDatabase.create();
    // Many small chats: two events a millisecond or so, so the socket is busy writing when the app closes.
    const CHATS = 3000;
    const account = { scanAfterMs: 0, fetchLatencyMs: 0, chats: Array.from({ length: CHATS }, (_, n) => chat(`${100000 + n}@c.us`, 1)) };
    const t = await TestApp.start({ account, database: db });
    try {
      await t.readySession('busy');
      const { socket, log } = await t.joined('busy');
      const closed = new Promise((resolve) => socket.once('disconnect', resolve));
      const running = t.request('POST', '/whatsapp-web/session/busy/sync-chats?limitPerChat=1').catch(() => undefined);
      await log.waitFor('sync_chats', 200);

      // The run stops at its next chat: it does not run on through the drain of requests in flight.
      await t.app.close();
      await closed;
      await running;

      const last = log.events.at(-1)!;
      const [row] = await db.query<{ status: string; current_chat: number }>(`SELECT status, current_chat FROM sync_runs WHERE session_id = 'busy'`);
      expect({ event: last.event, status: row.status }).toEqual({ event: 'sync_chats_failed', status: 'interrupted' });
      expect(last.payload).toEqual({ sessionId: 'busy', syncId: expect.any(String), error: 'the service is shutting down' });
      expect(row.current_chat).toBeLessThan(CHATS);
      // Every event up to the end arrived, in order: 0, then two per chat.
      const progress = log.of<{ currentChat: number }>('sync_chats');
      const chats = progress.slice(1).map((e) => e.currentChat);
      expect(chats).toEqual(Array.from({ length: chats.length }, (_, i) => Math.floor(i / 2) + 1));
      expect(chats.at(-1)).toBe(row.current_chat);
    } finally {
      for (const s of t.sockets) s.close();
      await db.drop();
    }
  }, 60_000);
});

describe('the application is closed while a request never completes', () => {
  it('after the drain of requests in flight, the connection is closed and close() returns', async () => {
    const t = await TestApp.start({ account: seedAccount() });
    const { hostname, port } = new URL(t.baseUrl);
    const socket = connect(Number(port), hostname);
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.on('error', () => undefined);
    // Headers announce 100 bytes of body; 10 arrive: the request is in flight, its body parser waits.
    socket.write('POST /whatsapp-web/session/hang/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a": "123');
    await waitFor(async () => (await t.request('GET', '/health')).status === 200, 'the server to answer');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    await t.close();
    const closedAt = await closed;
    // HTTP_DRAIN_MS (3 s) for requests in flight, then forceCloseConnections: never a wait on the client.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(closedAt - started).toBeLessThan(6000);
  }, 20_000);
});
