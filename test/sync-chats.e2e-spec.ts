import { WhatsappWebService } from '../src/whatsapp/whatsapp-web.service';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat, messagesFor, seedAccount } from './support/accounts';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { gate, waitFor } from './support/wait';

const OK = { success: true, message: 'Synchronization completed successfully' };

describe('POST /whatsapp-web/session/:id/sync-chats', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: seedAccount() });
  });
  afterEach(() => {
    t.whatsapp.account = accountFromSpec(seedAccount());
    t.whatsapp.beforeFetch = undefined;
  });
  afterAll(() => t.close());

  it('emits the seed\'s event flow exactly, answers, and stores 3 chats and 125 messages', async () => {
    await t.readySession('flow');
    const { log } = await t.joined('flow');

    const answer = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/flow/sync-chats?limitPerChat=100');
    await log.waitFor('sync_chats_done');

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      ...OK,
      mode: 'full',
      chatsProcessed: 3,
      chatsFailed: 0,
      chatsSkipped: 0,
      chatsWithGap: 0,
      messagesSynced: 125,
      messagesInserted: 125,
      syncId: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'flow', nChats: 3, currentChat: 0, messagesSynced: 0 },
      { sessionId: 'flow', nChats: 3, currentChat: 1, chatId: 'chat1@c.us', messagesSynced: 0 },
      { sessionId: 'flow', nChats: 3, currentChat: 1, chatId: 'chat1@c.us', messagesSynced: 50 },
      { sessionId: 'flow', nChats: 3, currentChat: 2, chatId: 'chat2@c.us', messagesSynced: 0 },
      { sessionId: 'flow', nChats: 3, currentChat: 2, chatId: 'chat2@c.us', messagesSynced: 75 },
      { sessionId: 'flow', nChats: 3, currentChat: 3, chatId: 'chat3@g.us', messagesSynced: 0 },
      { sessionId: 'flow', nChats: 3, currentChat: 3, chatId: 'chat3@g.us', messagesSynced: 0 },
    ]);
    const names = log.events.map((e) => e.event).filter((e) => e.startsWith('sync_chats'));
    expect(names[names.length - 1]).toBe('sync_chats_done');
    expect(log.of('sync_chats_done')).toEqual([
      { sessionId: 'flow', syncId: answer.body.syncId, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 3, chatsFailed: 0, messagesSynced: 125, messagesInserted: 125, durationMs: answer.body.durationMs },
    ]);

    expect(await t.db.query('SELECT wa_id, name, is_group, unread_count, timestamp, archived, pinned FROM chats WHERE session_id = $1 ORDER BY wa_id', ['flow'])).toEqual([
      { wa_id: 'chat1@c.us', name: 'Alice', is_group: false, unread_count: 2, timestamp: '1764150000', archived: false, pinned: false },
      { wa_id: 'chat2@c.us', name: 'Bob', is_group: false, unread_count: 0, timestamp: '1764149900', archived: false, pinned: false },
      { wa_id: 'chat3@g.us', name: 'Team', is_group: true, unread_count: 0, timestamp: '1764149800', archived: false, pinned: false },
    ]);
    expect(await t.db.query('SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id', ['flow'])).toEqual([
      { chat_id: 'chat1@c.us', n: 50 },
      { chat_id: 'chat2@c.us', n: 75 },
    ]);
    const [newest] = await t.db.query(
      `SELECT wa_id, chat_id, from_me, author, body, type, timestamp, has_media, ack, raw->>'id' AS raw_id
       FROM messages WHERE session_id = $1 AND chat_id = 'chat2@c.us' ORDER BY timestamp DESC LIMIT 1`,
      ['flow'],
    );
    expect(newest).toEqual({
      wa_id: 'false_chat2@c.us_3EB0000074',
      chat_id: 'chat2@c.us',
      from_me: false,
      author: null,
      body: 'message 74 of chat2@c.us',
      type: 'chat',
      timestamp: '1764150000',
      has_media: false,
      ack: 0,
      raw_id: 'false_chat2@c.us_3EB0000074',
    });
    expect(await t.db.query('SELECT status, mode, trigger, chat_id, n_chats, current_chat, messages_synced, messages_inserted, chats_failed, chats_skipped, chats_with_gap, limit_per_chat, error, finished_at IS NOT NULL AS finished FROM sync_runs WHERE session_id = $1', ['flow'])).toEqual([
      { status: 'done', mode: 'full', trigger: 'api', chat_id: null, n_chats: 3, current_chat: 3, messages_synced: '125', messages_inserted: '125', chats_failed: 0, chats_skipped: 0, chats_with_gap: 0, limit_per_chat: 100, error: null, finished: true },
    ]);
  });

  it('stores nothing twice on a second run, and updates what changed', async () => {
    await t.readySession('resync');
    await t.request('POST', '/whatsapp-web/session/resync/sync-chats');
    const before = await t.db.query<{ id: string; wa_id: string; created_at: Date; updated_at: Date }>(
      'SELECT id, wa_id, created_at, updated_at FROM messages WHERE session_id = $1 ORDER BY wa_id',
      ['resync'],
    );

    const changed = seedAccount();
    changed.chats[0].name = 'Alice Smith';
    changed.chats[0].unreadCount = 7;
    changed.chats[1].messages[74] = { ...changed.chats[1].messages[74], body: 'edited', ack: 3 };
    t.whatsapp.account = accountFromSpec(changed);
    const second = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/resync/sync-chats');

    // Nothing new: every message held, none inserted; the edited one is rewritten.
    expect(second.body).toMatchObject({ ...OK, mode: 'full', chatsProcessed: 3, messagesSynced: 125, messagesInserted: 0 });
    expect(await t.db.counts('resync')).toEqual({ sessions: 1, chats: 3, messages: 125, sync_runs: 2 });
    expect(await t.db.query('SELECT name, unread_count FROM chats WHERE session_id = $1 AND wa_id = $2', ['resync', 'chat1@c.us'])).toEqual([
      { name: 'Alice Smith', unread_count: 7 },
    ]);
    const after = await t.db.query<{ id: string; wa_id: string; body: string; ack: number; created_at: Date; updated_at: Date }>(
      'SELECT id, wa_id, body, ack, created_at, updated_at FROM messages WHERE session_id = $1 ORDER BY wa_id',
      ['resync'],
    );
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    const edited = after.filter((row, i) => row.updated_at.getTime() !== before[i].updated_at.getTime());
    expect(edited.map(({ wa_id, body, ack }) => ({ wa_id, body, ack }))).toEqual([{ wa_id: 'false_chat2@c.us_3EB0000074', body: 'edited', ack: 3 }]);
  });

  it('fetches and stores at most limitPerChat messages of each chat, the newest ones', async () => {
    await t.readySession('limited');
    const { log } = await t.joined('limited');
    const answer = await t.request('POST', '/whatsapp-web/session/limited/sync-chats?limitPerChat=10');
    await log.waitFor('sync_chats_done');

    expect(answer.body).toMatchObject({ ...OK, chatsProcessed: 3, messagesSynced: 20 });
    expect(log.of('sync_chats').map((e) => e.messagesSynced)).toEqual([0, 0, 10, 0, 10, 0, 0]);
    const stored = await t.db.query<{ chat_id: string; oldest: string; n: number }>(
      'SELECT chat_id, min(timestamp) AS oldest, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id',
      ['limited'],
    );
    expect(stored).toEqual([
      { chat_id: 'chat1@c.us', oldest: String(1764150000 - 9 * 60), n: 10 },
      { chat_id: 'chat2@c.us', oldest: String(1764150000 - 9 * 60), n: 10 },
    ]);
  });

  it('reports a chat whose fetch fails, syncs the others, and finishes the run as done', async () => {
    const account = seedAccount();
    account.chats[1].failFetch = true;
    t.whatsapp.account = accountFromSpec(account);
    await t.readySession('failing');
    const { log } = await t.joined('failing');

    const answer = await t.request('POST', '/whatsapp-web/session/failing/sync-chats');
    await log.waitFor('sync_chats_done');

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ...OK, chatsProcessed: 3, chatsFailed: 1, messagesSynced: 50 });
    expect(log.of('sync_chats')[4]).toEqual({
      sessionId: 'failing',
      nChats: 3,
      currentChat: 2,
      chatId: 'chat2@c.us',
      messagesSynced: 0,
      error: 'Simulated failure fetching messages of chat2@c.us',
    });
    expect(log.of('sync_chats')).toHaveLength(7);
    expect(log.of('sync_chats_failed')).toEqual([]);
    expect(await t.db.counts('failing')).toEqual({ sessions: 1, chats: 3, messages: 50, sync_runs: 1 });
    expect(await t.db.query('SELECT status, chats_failed FROM sync_runs WHERE session_id = $1', ['failing'])).toEqual([{ status: 'done', chats_failed: 1 }]);
  });

  it('sends sync events to the session\'s room only', async () => {
    await t.readySession('roomA');
    await t.readySession('roomB');
    const { log: inA } = await t.joined('roomA');
    const { socket: otherSocket, log: inB } = await t.joined('roomB');
    const loneSocket = await t.socket();
    const inNoRoom = new EventLog(loneSocket);

    await t.request('POST', '/whatsapp-web/session/roomA/sync-chats');
    await inA.waitFor('sync_chats_done');
    // Anything sent to these sockets before the run ended arrives before these acknowledgements.
    await emitWithAck(otherSocket, 'leave-session', { sessionId: 'roomB' });
    await emitWithAck(loneSocket, 'leave-session', { sessionId: 'roomB' });

    expect(inA.of('sync_chats')).toHaveLength(7);
    expect(inB.events.filter((e) => e.event.startsWith('sync_chats'))).toEqual([]);
    expect(inNoRoom.events).toEqual([]);
  });

  it('runs once for two concurrent triggers and gives both the same answer', async () => {
    await t.readySession('twice');
    const { log } = await t.joined('twice');
    const hold = gate();
    t.whatsapp.beforeFetch = () => hold.promise;
    const service = t.app.get(WhatsappWebService);
    const calls = jest.spyOn(service, 'syncChatsWithProgress');

    const first = t.request('POST', '/whatsapp-web/session/twice/sync-chats');
    const second = t.request('GET', '/whatsapp-web/session/twice/chats');
    await waitFor(() => calls.mock.calls.filter(([id]) => id === 'twice').length === 2, 'both triggers to reach the service');
    hold.open();
    const [a, b] = await Promise.all([first, second]);
    await log.waitFor('sync_chats_done');
    calls.mockRestore();

    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect((b.body as unknown[]).length).toBe(3);
    expect(log.of('sync_chats')).toHaveLength(7);
    expect(log.of('sync_chats_done')).toHaveLength(1);
    expect(await t.db.query('SELECT id FROM sync_runs WHERE session_id = $1', ['twice'])).toEqual([{ id: (a.body as { syncId: string }).syncId }]);
  });

  it('gives a socket that joins mid-run the latest progress at once, then the rest', async () => {
    await t.readySession('late');
    const { log: early } = await t.joined('late');
    const hold = gate();
    t.whatsapp.beforeFetch = (_session, chatId) => (chatId === 'chat2@c.us' ? hold.promise : undefined);

    const answer = t.request('POST', '/whatsapp-web/session/late/sync-chats');
    await waitFor(() => early.of('sync_chats').length === 4, 'chat 2 saved');
    const latest = await t.request('GET', '/whatsapp-web/session/late/sync-chats/latest');
    const { log: late } = await t.joined('late');
    await late.waitFor('sync_chats');
    hold.open();
    await answer;
    await late.waitFor('sync_chats_done');

    expect(latest.body).toMatchObject({ status: 'running', nChats: 3, currentChat: 2, messagesSynced: 50, chatsFailed: 0, finishedAt: null });
    expect(late.of('sync_chats')).toEqual([
      { sessionId: 'late', nChats: 3, currentChat: 2, chatId: 'chat2@c.us', messagesSynced: 0 },
      { sessionId: 'late', nChats: 3, currentChat: 2, chatId: 'chat2@c.us', messagesSynced: 75 },
      { sessionId: 'late', nChats: 3, currentChat: 3, chatId: 'chat3@g.us', messagesSynced: 0 },
      { sessionId: 'late', nChats: 3, currentChat: 3, chatId: 'chat3@g.us', messagesSynced: 0 },
    ]);
    expect(late.of('session_status')).toEqual([{ sessionId: 'late', status: 'ready' }]);
  });

  it('keeps the event order when later chats finish first', async () => {
    const account = seedAccount();
    account.chats.push(chat('chat4@c.us', 5, { timestamp: 1_764_140_000 }), chat('chat5@c.us', 7, { timestamp: 1_764_130_000 }));
    t.whatsapp.account = accountFromSpec(account);
    await t.readySession('reversed');
    const { log } = await t.joined('reversed');
    // Chat k's fetch may only finish once chat k+1's has: the pipeline completes them in reverse.
    const finished = new Map<string, () => void>();
    const done = (id: string) => new Promise<void>((resolve) => finished.set(id, resolve));
    const waits = new Map(account.chats.map((c, i) => [c.id, i + 1 < account.chats.length ? done(account.chats[i + 1].id) : Promise.resolve()]));
    const completedOrder: string[] = [];
    t.whatsapp.beforeFetch = async (_session, chatId) => {
      await waits.get(chatId);
      completedOrder.push(chatId);
      finished.get(chatId)?.();
    };

    await t.request('POST', '/whatsapp-web/session/reversed/sync-chats');
    await log.waitFor('sync_chats_done');

    expect(completedOrder).toEqual(['chat5@c.us', 'chat4@c.us', 'chat3@g.us', 'chat2@c.us', 'chat1@c.us']);
    const ids = ['chat1@c.us', 'chat2@c.us', 'chat3@g.us', 'chat4@c.us', 'chat5@c.us'];
    const counts = [50, 75, 0, 5, 7];
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'reversed', nChats: 5, currentChat: 0, messagesSynced: 0 },
      ...ids.flatMap((chatId, i) => [
        { sessionId: 'reversed', nChats: 5, currentChat: i + 1, chatId, messagesSynced: 0 },
        { sessionId: 'reversed', nChats: 5, currentChat: i + 1, chatId, messagesSynced: counts[i] },
      ]),
    ]);
  });

  it('writes 1,000 messages in a bounded number of SQL statements: one per chat, whatever its size', async () => {
    t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: Array.from({ length: 10 }, (_, i) => chat(`bulk${i}@c.us`, 100)) });
    await t.readySession('bulk');
    // The session's `ready` is stored (with its outbox row) in a transaction of its own: not counted.
    await waitFor(async () => (await t.db.query<{ status: string }>(`SELECT status FROM sessions WHERE session_id = 'bulk'`))[0]?.status === 'ready', 'ready stored');
    t.sql.startRecording();

    const answer = await t.request('POST', '/whatsapp-web/session/bulk/sync-chats');
    const statements = t.sql.stopRecording();

    expect(answer.body).toMatchObject({ ...OK, chatsProcessed: 10, messagesSynced: 1000 });
    expect(statements.filter((sql) => sql.includes('INSERT INTO messages'))).toHaveLength(10);
    expect(statements.filter((sql) => sql.includes('INSERT INTO chats'))).toHaveLength(1);
    // The rest is the run's own row: created (in a transaction) and finished (in a transaction with
    // its outbox row: BEGIN, UPDATE, INSERT, COMMIT).
    expect(statements.length).toBeLessThanOrEqual(19);
    expect(await t.db.counts('bulk')).toMatchObject({ chats: 10, messages: 1000 });
  });

  it('GET chats synchronizes first, then returns the stored chats newest first', async () => {
    const account = seedAccount();
    account.chats.push(chat('chat4@c.us', 3, { name: 'Newest', timestamp: 1_764_160_000, pinned: true, messages: messagesFor('chat4@c.us', 3, 1_764_160_000) }));
    t.whatsapp.account = accountFromSpec(account);
    await t.readySession('listing');
    const { log } = await t.joined('listing');

    const answer = await t.request<Array<Record<string, unknown>>>('GET', '/whatsapp-web/session/listing/chats');
    await log.waitFor('sync_chats_done');

    expect(answer.status).toBe(200);
    expect(answer.body.map((c) => c.id)).toEqual(['chat4@c.us', 'chat1@c.us', 'chat2@c.us', 'chat3@g.us']);
    expect(answer.body[0]).toEqual({
      id: 'chat4@c.us',
      name: 'Newest',
      isGroup: false,
      unreadCount: 0,
      timestamp: 1764160000,
      archived: false,
      pinned: true,
      updatedAt: expect.any(String),
    });
    expect(log.of('sync_chats')).toHaveLength(9);
  });
});
