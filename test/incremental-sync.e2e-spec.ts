import { WhatsappWebService } from '../src/whatsapp/whatsapp-web.service';
import { SimulatedAccountSpec, SimulatedChatSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat, messagesFor } from './support/accounts';
import { EventLog, TestApp } from './support/test-app';
import { gate, waitFor } from './support/wait';

/**
 * `mode=incremental` (README, "What a sync does"): skipped chats, growing windows, the catch-up
 * bound, the one-chat route, and the validation of `mode`, against the real server and database.
 */

const BASE = 1_764_150_000;
const OK = { success: true, message: 'Synchronization completed successfully' };
const MODE_RULE = 'mode must be one of full, incremental';
const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });

/** Four chats of 20 messages each, every chat's timestamp its newest message's. */
function fourChats(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: ['a', 'b', 'c', 'd'].map((n, i) => chat(`${n}@c.us`, 20, { timestamp: BASE - i * 60, messages: messagesFor(`${n}@c.us`, 20, BASE - i * 60) })) };
}

/** The chat with `more` messages after its last (same ids and timestamps for the ones it had). */
function grown(spec: SimulatedChatSpec, more: number): SimulatedChatSpec {
  const last = (spec.timestamp ?? BASE) + more * 60;
  return { ...spec, timestamp: last, messages: messagesFor(spec.id, spec.messages.length + more, last) };
}

describe('mode=incremental', () => {
  let t: TestApp;
  /** Message fetches of the provider, in the order they were made: [session, chat]. */
  let fetches: Array<[string, string]>;

  beforeAll(async () => {
    t = await TestApp.start({ account: fourChats() });
  });
  beforeEach(() => {
    fetches = [];
    t.whatsapp.beforeFetch = (sessionId, chatId) => void fetches.push([sessionId, chatId]);
  });
  afterEach(() => {
    t.whatsapp.account = accountFromSpec(fourChats());
    t.whatsapp.beforeFetch = undefined;
    jest.restoreAllMocks();
  });
  afterAll(() => t.close());

  async function synced(sessionId: string, query = ''): Promise<EventLog> {
    await t.readySession(sessionId);
    const full = await t.request('POST', `/whatsapp-web/session/${sessionId}/sync-chats${query}`);
    expect(full.status).toBe(200);
    const { log } = await t.joined(sessionId);
    fetches = [];
    return log;
  }

  it('fetches only the chats with something new, stores exactly what is missing, and reports it', async () => {
    const log = await synced('inc');
    const changed = fourChats();
    changed.chats[1] = grown(changed.chats[1], 3);
    changed.chats.push(chat('e@c.us', 5, { timestamp: BASE + 600, messages: messagesFor('e@c.us', 5, BASE + 600) }));
    changed.chats[2] = { ...changed.chats[2], name: 'Carol, renamed' };
    t.whatsapp.account = accountFromSpec(changed);
    const chatList = jest.spyOn(t.whatsapp.clientOf('inc')!, 'getChats');

    const answer = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/inc/sync-chats?mode=incremental');
    await log.waitFor('sync_chats_done');

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      ...OK,
      mode: 'incremental',
      chatsProcessed: 2,
      chatsFailed: 0,
      chatsSkipped: 3,
      chatsWithGap: 0,
      // b's window of 100 came back with its 23 (short: nothing older), e's 5.
      messagesSynced: 28,
      messagesInserted: 8,
      syncId: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(chatList).toHaveBeenCalledTimes(1);
    expect(fetches).toEqual([
      ['inc', 'b@c.us'],
      ['inc', 'e@c.us'],
    ]);
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'inc', nChats: 2, currentChat: 0, messagesSynced: 0 },
      { sessionId: 'inc', nChats: 2, currentChat: 1, chatId: 'b@c.us', messagesSynced: 0 },
      { sessionId: 'inc', nChats: 2, currentChat: 1, chatId: 'b@c.us', messagesSynced: 23 },
      { sessionId: 'inc', nChats: 2, currentChat: 2, chatId: 'e@c.us', messagesSynced: 0 },
      { sessionId: 'inc', nChats: 2, currentChat: 2, chatId: 'e@c.us', messagesSynced: 5 },
    ]);
    const { success: _success, message: _message, ...summary } = answer.body;
    expect(log.of('sync_chats_done')).toEqual([{ sessionId: 'inc', ...summary }]);
    // Every chat row upserted, the renamed one included; the messages are the account's, each once.
    expect(await t.db.query('SELECT wa_id, name FROM chats WHERE session_id = $1 ORDER BY wa_id', ['inc'])).toEqual([
      { wa_id: 'a@c.us', name: 'Name of a@c.us' },
      { wa_id: 'b@c.us', name: 'Name of b@c.us' },
      { wa_id: 'c@c.us', name: 'Carol, renamed' },
      { wa_id: 'd@c.us', name: 'Name of d@c.us' },
      { wa_id: 'e@c.us', name: 'Name of e@c.us' },
    ]);
    const stored = await t.db.query<{ wa_id: string }>('SELECT wa_id FROM messages WHERE session_id = $1 ORDER BY wa_id', ['inc']);
    expect(stored.map((r) => r.wa_id)).toEqual(changed.chats.flatMap((c) => c.messages.map((m) => m.id)).sort());
    const latest = await t.request('GET', '/whatsapp-web/session/inc/sync-chats/latest');
    // Calls into WhatsApp: the chat list, then one fetch of each of the two chats.
    expect(latest.body).toMatchObject({ status: 'done', mode: 'incremental', trigger: 'api', nChats: 2, chatsSkipped: 3, chatsWithGap: 0, messagesSynced: 28, messagesInserted: 8, fetchCalls: 3 });
    expect(await t.db.query('SELECT mode, trigger, n_chats, chats_skipped, messages_inserted FROM sync_runs WHERE session_id = $1 ORDER BY started_at', ['inc'])).toEqual([
      { mode: 'full', trigger: 'api', n_chats: 4, chats_skipped: 0, messages_inserted: '80' },
      { mode: 'incremental', trigger: 'api', n_chats: 2, chats_skipped: 3, messages_inserted: '8' },
    ]);
  });

  it('with nothing changed costs one chat-list fetch, no message fetch, and one statement besides the run\'s own row', async () => {
    const log = await synced('idle');
    const chatList = jest.spyOn(t.whatsapp.clientOf('idle')!, 'getChats');
    const rowVersions = async () => ({
      chats: await t.db.query('SELECT wa_id, xmin::text FROM chats WHERE session_id = $1 ORDER BY wa_id', ['idle']),
      messages: await t.db.query('SELECT wa_id, xmin::text FROM messages WHERE session_id = $1 ORDER BY wa_id', ['idle']),
    });
    const before = await rowVersions();
    t.sql.startRecording();

    const answer = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/idle/sync-chats?mode=incremental');
    const statements = t.sql.stopRecording();
    await log.waitFor('sync_chats_done');

    expect(answer.body).toMatchObject({ ...OK, mode: 'incremental', chatsProcessed: 0, chatsSkipped: 4, messagesSynced: 0, messagesInserted: 0 });
    expect(chatList).toHaveBeenCalledTimes(1);
    expect(fetches).toEqual([]);
    // Besides the run's own row and, in its transaction, the check of the session's lease and its
    // `sync_chats_done` in the webhook outbox; the media queue's polls run on their own clock.
    const data = statements.filter((sql) => !/sync_runs|session_leases|message_media|INSERT INTO webhook_deliveries|^\s*(START TRANSACTION|BEGIN|COMMIT)/i.test(sql));
    // The stored chats and their newest messages, read while WhatsApp lists the chats; no chat row
    // differs from the listing, so none is upserted.
    expect(data).toHaveLength(1);
    expect(data[0]).toContain('LEFT JOIN LATERAL');
    expect(data[0]).not.toContain('INSERT');
    expect(log.of('sync_chats')).toEqual([{ sessionId: 'idle', nChats: 0, currentChat: 0, messagesSynced: 0 }]);
    expect((await t.request('GET', '/whatsapp-web/session/idle/sync-chats/latest')).body).toMatchObject({ fetchCalls: 1 });
    // Nothing rewritten: every row keeps the version the first sync wrote.
    expect(await rowVersions()).toEqual(before);
  });

  it('grows its window until it reaches the stored history: nothing between is missing', async () => {
    await synced('windows');
    const changed = fourChats();
    changed.chats[0] = grown(changed.chats[0], 30);
    t.whatsapp.account = accountFromSpec(changed);

    const answer = await t.request('POST', '/whatsapp-web/session/windows/sync-chats?mode=incremental&limitPerChat=4');

    // Windows of 4, 16 and 64: the third holds the stored ones.
    expect(fetches).toEqual([
      ['windows', 'a@c.us'],
      ['windows', 'a@c.us'],
      ['windows', 'a@c.us'],
    ]);
    expect(answer.body).toMatchObject({ chatsProcessed: 1, chatsSkipped: 3, chatsWithGap: 0, messagesSynced: 50, messagesInserted: 30 });
    expect(await t.db.query('SELECT count(*)::int AS n FROM messages WHERE session_id = $1 AND chat_id = $2', ['windows', 'a@c.us'])).toEqual([{ n: 50 }]);
    expect(await t.db.query("SELECT fetch_calls FROM sync_runs WHERE session_id = 'windows' ORDER BY started_at")).toEqual([{ fetch_calls: 5 }, { fetch_calls: 4 }]);
  });

  it('a chat never stored gets its newest limitPerChat, as in a full run', async () => {
    await t.readySession('fresh');
    const answer = await t.request('POST', '/whatsapp-web/session/fresh/sync-chats?mode=incremental&limitPerChat=7');
    expect(answer.body).toMatchObject({ ...OK, mode: 'incremental', chatsProcessed: 4, chatsSkipped: 0, messagesSynced: 28, messagesInserted: 28 });
    expect(fetches).toHaveLength(4);
    expect(await t.db.counts('fresh')).toEqual({ sessions: 1, chats: 4, messages: 28, sync_runs: 1 });
  });

  it('GET chats?mode=incremental synchronizes incrementally, then lists the chats', async () => {
    await synced('listing');
    const changed = fourChats();
    changed.chats[3] = grown(changed.chats[3], 4);
    t.whatsapp.account = accountFromSpec(changed);

    const answer = await t.request<Array<{ id: string }>>('GET', '/whatsapp-web/session/listing/chats?mode=incremental');

    expect(answer.status).toBe(200);
    expect(answer.body.map((c) => c.id)).toEqual(['d@c.us', 'a@c.us', 'b@c.us', 'c@c.us']);
    expect(fetches).toEqual([['listing', 'd@c.us']]);
    expect((await t.request('GET', '/whatsapp-web/session/listing/sync-chats/latest')).body).toMatchObject({ mode: 'incremental', trigger: 'api', chatsSkipped: 3 });
  });

  it('a trigger of another mode while a run is going joins it, and its answer names the mode that ran', async () => {
    await synced('join');
    const hold = gate();
    t.whatsapp.beforeFetch = () => hold.promise;
    const changed = fourChats();
    changed.chats[0] = grown(changed.chats[0], 2);
    t.whatsapp.account = accountFromSpec(changed);

    // Every trigger reaches the service before the held fetch is let go (each joins at once, synchronously).
    const triggers = jest.spyOn(t.app.get(WhatsappWebService), 'syncChatsWithProgress');
    const incremental = t.request<{ syncId: string; mode: string }>('POST', '/whatsapp-web/session/join/sync-chats?mode=incremental');
    await waitFor(async () => (await t.request<{ status: string; mode: string }>('GET', '/whatsapp-web/session/join/sync-chats/latest')).body.mode === 'incremental', 'the incremental run to start');
    const full = t.request<{ syncId: string; mode: string }>('POST', '/whatsapp-web/session/join/sync-chats?mode=full');
    const listing = t.request('GET', '/whatsapp-web/session/join/chats?mode=full');
    await waitFor(() => triggers.mock.calls.length >= 3, 'the three triggers to reach the service');
    triggers.mockRestore();
    hold.open();
    const [a, b, c] = await Promise.all([incremental, full, listing]);

    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.body).toEqual(a.body);
    expect(a.body.mode).toBe('incremental');
    expect(await t.db.query('SELECT mode FROM sync_runs WHERE session_id = $1 ORDER BY started_at', ['join'])).toEqual([{ mode: 'full' }, { mode: 'incremental' }]);
  });

  describe('POST /session/:id/chats/:chatId/sync', () => {
    it('syncs one chat with the seed\'s flow for nChats 1, and answers what it stored', async () => {
      const log = await synced('one', '?limitPerChat=5');
      const changed = fourChats();
      changed.chats[2] = grown(changed.chats[2], 4);
      t.whatsapp.account = accountFromSpec(changed);

      const answer = await t.request('POST', '/whatsapp-web/session/one/chats/c%40c.us/sync?mode=incremental');
      await log.waitFor('sync_chats_done');

      expect(answer.status).toBe(200);
      // The window of 100 came back with all 24 messages: those fetched and stored before, and 4 new.
      expect(answer.body).toEqual({
        success: true,
        chatId: 'c@c.us',
        messagesSynced: 24,
        mode: 'incremental',
        gap: false,
        skipped: false,
        messagesInserted: 19,
        syncId: expect.any(String),
        durationMs: expect.any(Number),
      });
      expect(fetches).toEqual([['one', 'c@c.us']]);
      expect(log.of('sync_chats')).toEqual([
        { sessionId: 'one', nChats: 1, currentChat: 0, messagesSynced: 0 },
        { sessionId: 'one', nChats: 1, currentChat: 1, chatId: 'c@c.us', messagesSynced: 0 },
        { sessionId: 'one', nChats: 1, currentChat: 1, chatId: 'c@c.us', messagesSynced: 24 },
      ]);
      expect(log.of('sync_chats_done')).toEqual([
        expect.objectContaining({ sessionId: 'one', mode: 'incremental', chatsProcessed: 1, chatsSkipped: 0, messagesSynced: 24, messagesInserted: 19 }),
      ]);
      expect((await t.request('GET', '/whatsapp-web/session/one/sync-chats/latest')).body).toMatchObject({
        status: 'done',
        mode: 'incremental',
        trigger: 'api',
        chatId: 'c@c.us',
        nChats: 1,
      });
      expect(await t.db.query('SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id', ['one'])).toEqual([
        { chat_id: 'a@c.us', n: 5 },
        { chat_id: 'b@c.us', n: 5 },
        { chat_id: 'c@c.us', n: 24 },
        { chat_id: 'd@c.us', n: 5 },
      ]);
    });

    it('full mode (the default) fetches the chat\'s newest limitPerChat; incremental skips it when nothing is newer', async () => {
      await synced('one-full', '?limitPerChat=5');

      const full = await t.request('POST', '/whatsapp-web/session/one-full/chats/b%40c.us/sync?limitPerChat=12');
      const skipped = await t.request('POST', '/whatsapp-web/session/one-full/chats/b%40c.us/sync?mode=incremental');

      expect(full.body).toMatchObject({ success: true, chatId: 'b@c.us', mode: 'full', messagesSynced: 12, messagesInserted: 7, gap: false, skipped: false });
      expect(skipped.body).toMatchObject({ success: true, chatId: 'b@c.us', mode: 'incremental', messagesSynced: 0, messagesInserted: 0, gap: false, skipped: true });
      expect(fetches).toEqual([['one-full', 'b@c.us']]);
    });

    it('is a 404 for a chat WhatsApp does not know, and stores nothing', async () => {
      await synced('one-404');
      const before = await t.db.counts('one-404');

      const answer = await t.request('POST', '/whatsapp-web/session/one-404/chats/nobody%40c.us/sync?mode=incremental');

      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 404,
        body: { statusCode: 404, error: 'Not Found', message: 'Chat nobody@c.us not found in WhatsApp for session one-404' },
      });
      expect(await t.db.counts('one-404')).toEqual(before);
      expect(fetches).toEqual([]);
    });

    it('is a 502 naming the cause when WhatsApp fails to give the chat\'s messages', async () => {
      await synced('one-fail');
      const failing = fourChats();
      failing.chats[1] = { ...grown(failing.chats[1], 2), failFetch: true };
      t.whatsapp.account = accountFromSpec(failing);

      const answer = await t.request('POST', '/whatsapp-web/session/one-fail/chats/b%40c.us/sync?mode=incremental');

      expect({ status: answer.status, body: answer.body }).toEqual({
        status: 502,
        body: { statusCode: 502, error: 'Bad Gateway', message: 'Synchronization of chat b@c.us failed: Simulated failure fetching messages of b@c.us' },
      });
      expect((await t.request('GET', '/whatsapp-web/session/one-fail/sync-chats/latest')).body).toMatchObject({ status: 'done', chatId: 'b@c.us', chatsFailed: 1 });
    });

    it('is a 404 for an unknown session and a 409 for one that is not ready', async () => {
      const unknown = await t.request('POST', '/whatsapp-web/session/one-ghost/chats/a%40c.us/sync');
      expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Session one-ghost not found' });
      await synced('one-stopped');
      await t.request('POST', '/whatsapp-web/session/one-stopped/stop');
      const stopped = await t.request('POST', '/whatsapp-web/session/one-stopped/chats/a%40c.us/sync');
      expect(stopped.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'Session one-stopped is not ready (status: stopped)' });
    });
  });

  describe('mode validation', () => {
    const BAD_MODES: Array<[string, string]> = [
      ['empty', 'mode='],
      ['another case', 'mode=FULL'],
      ['another case (Incremental)', 'mode=Incremental'],
      ['given twice', 'mode=full&mode=incremental'],
      ['an unknown mode', 'mode=partial'],
    ];
    const routes = (query: string): Array<[string, string]> => [
      ['POST', `/whatsapp-web/session/vmode/sync-chats?${query}`],
      ['GET', `/whatsapp-web/session/vmode/chats?${query}`],
      ['POST', `/whatsapp-web/session/vmode/chats/a%40c.us/sync?${query}`],
    ];
    const cases = BAD_MODES.flatMap(([what, query]) => routes(query).map(([method, path]) => [`${method} ${path.split('?')[0]} with ${what}`, method, path] as const));

    beforeAll(async () => {
      await t.readySession('vmode');
    });

    it.each(cases)('%s is a 400 naming the allowed modes, and stores nothing', async (_name, method, path) => {
      const before = await t.db.counts();
      const answer = await t.request(method, path);
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: badRequest(MODE_RULE) });
      expect(await t.db.counts()).toEqual(before);
    });

    it('is checked before the session is looked up; the one-chat route checks limitPerChat too', async () => {
      expect((await t.request('POST', '/whatsapp-web/session/vghost/sync-chats?mode=x')).body).toEqual(badRequest(MODE_RULE));
      expect((await t.request('POST', '/whatsapp-web/session/vmode/chats/a%40c.us/sync?limitPerChat=0')).body).toEqual(badRequest('limitPerChat must be an integer from 1 to 10000'));
      expect(fetches).toEqual([]);
    });
  });
});

describe('SYNC_CATCHUP_MAX_PER_CHAT', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: fourChats(), env: { SYNC_CATCHUP_MAX_PER_CHAT: '5' } });
  });
  afterAll(() => t.close());

  it('a chat with more new messages than the bound gets the newest ones, gap: true, and is counted in chatsWithGap', async () => {
    await t.readySession('gap');
    await t.request('POST', '/whatsapp-web/session/gap/sync-chats');
    const { log } = await t.joined('gap');
    const changed = fourChats();
    changed.chats[0] = grown(changed.chats[0], 12);
    changed.chats[1] = grown(changed.chats[1], 5);
    t.whatsapp.account = accountFromSpec(changed);
    const fetches: string[] = [];
    t.whatsapp.beforeFetch = (_session, chatId) => void fetches.push(chatId);

    const answer = await t.request('POST', '/whatsapp-web/session/gap/sync-chats?mode=incremental&limitPerChat=2');
    await log.waitFor('sync_chats_done');

    // Windows of 2, then 6 (the bound plus one): a's 6 are all new, b's 6 reach its stored history.
    // (The two chats are fetched concurrently, so their fetches interleave.)
    expect([...fetches].sort()).toEqual(['a@c.us', 'a@c.us', 'b@c.us', 'b@c.us']);
    expect(answer.body).toMatchObject({ ...OK, mode: 'incremental', chatsProcessed: 2, chatsSkipped: 2, chatsWithGap: 1, messagesSynced: 11, messagesInserted: 10 });
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'gap', nChats: 2, currentChat: 0, messagesSynced: 0 },
      { sessionId: 'gap', nChats: 2, currentChat: 1, chatId: 'a@c.us', messagesSynced: 0 },
      { sessionId: 'gap', nChats: 2, currentChat: 1, chatId: 'a@c.us', messagesSynced: 5, gap: true },
      { sessionId: 'gap', nChats: 2, currentChat: 2, chatId: 'b@c.us', messagesSynced: 0 },
      { sessionId: 'gap', nChats: 2, currentChat: 2, chatId: 'b@c.us', messagesSynced: 6 },
    ]);
    const newestOfA = changed.chats[0].messages.slice(-5).map((m) => m.id);
    const storedA = await t.db.query<{ wa_id: string }>('SELECT wa_id FROM messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp', ['gap', 'a@c.us']);
    expect(storedA.map((r) => r.wa_id)).toEqual([...changed.chats[0].messages.slice(0, 20).map((m) => m.id), ...newestOfA]);
    expect((await t.request('GET', '/whatsapp-web/session/gap/sync-chats/latest')).body).toMatchObject({ chatsWithGap: 1, fetchCalls: 5 });
    expect(await t.db.query("SELECT chats_with_gap FROM sync_runs WHERE session_id = 'gap' AND mode = 'incremental'")).toEqual([{ chats_with_gap: 1 }]);

    // The one-chat route reports its gap the same way.
    const more = accountFromSpec({ ...changed, chats: [grown(changed.chats[0], 9), ...changed.chats.slice(1)] });
    t.whatsapp.account = more;
    const one = await t.request('POST', '/whatsapp-web/session/gap/chats/a%40c.us/sync?mode=incremental&limitPerChat=2');
    expect(one.body).toMatchObject({ chatId: 'a@c.us', mode: 'incremental', gap: true, messagesSynced: 5, messagesInserted: 5 });
  });
});
