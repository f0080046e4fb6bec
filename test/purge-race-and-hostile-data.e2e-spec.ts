import { SimulatedAccountSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat, messagesFor } from './support/accounts';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * What a hostile sweep of the service found (issue 11): a purge racing a sync, and account data
 * that failed whole runs or made their counts lie. Each case through the real HTTP API and sync.
 */

const OK = { success: true, message: 'Synchronization completed successfully' };
const BASE = 1_764_150_000;

describe('DELETE ?purge=true while a sync is writing', () => {
  let t: TestApp;
  /** 30 chats of 3,000 messages, fetched with some latency, so that a purge lands mid-run. */
  const bigAccount: SimulatedAccountSpec = {
    scanAfterMs: 0,
    fetchLatencyMs: 15,
    chats: Array.from({ length: 30 }, (_, n) => chat(`big-${String(n).padStart(2, '0')}@c.us`, 3000, { timestamp: BASE - n })),
  };

  beforeAll(async () => {
    t = await TestApp.start({ account: bigAccount });
  });
  afterAll(() => t.close());

  async function messages(sessionId: string): Promise<number> {
    const [{ n }] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE session_id = $1', [sessionId]);
    return n;
  }

  it.each([1, 3_000, 12_000, 30_000])('purged once %i messages are stored: nothing of the session remains when it answers, nor after the run ends', async (storedBefore) => {
    const id = `purge-${storedBefore}`;
    await t.readySession(id);
    const sync = t.request('POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=3000`);
    await waitFor(async () => (await messages(id)) >= storedBefore, `${storedBefore} messages stored`);

    const deleted = await t.request('DELETE', `/whatsapp-web/session/${id}?purge=true`);
    expect({ status: deleted.status, body: deleted.body }).toEqual({ status: 200, body: { sessionId: id, deleted: true, purged: true } });
    expect(await t.db.counts(id)).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });

    const ended = await sync;
    expect({ status: ended.status, body: ended.body }).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: `Synchronization failed: session ${id} is no longer ready (status: deleted)` },
    });
    // The run has answered: it has nothing left in flight that could write.
    expect(await t.db.counts(id)).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });
    expect((await t.request('GET', `/whatsapp-web/session/${id}`)).status).toBe(404);
  });

  it('a start while the delete waits for the run is refused; the session can be started again afterwards', async () => {
    const id = 'purge-restart';
    await t.readySession(id);
    const sync = t.request('POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=3000`);
    await waitFor(async () => (await messages(id)) >= 3000, 'a chat stored');
    const deleted = t.request('DELETE', `/whatsapp-web/session/${id}?purge=true`);
    const started = await t.request('POST', `/whatsapp-web/session/${id}/start`);
    expect({ status: started.status, body: started.body }).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: `Session ${id} is being deleted` },
    });
    expect((await deleted).status).toBe(200);
    expect((await sync).status).toBe(409);
    expect(await t.db.counts(id)).toEqual({ sessions: 0, chats: 0, messages: 0, sync_runs: 0 });
    await t.readySession(id);
  });
});

describe('account data that failed whole runs or made their counts lie', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: { scanAfterMs: 0, fetchLatencyMs: 0, chats: [] } });
  });
  afterAll(() => t.close());

  async function rowVersions(sessionId: string): Promise<unknown[]> {
    return t.db.query('SELECT wa_id, chat_id, xmin::text FROM messages WHERE session_id = $1 ORDER BY wa_id', [sessionId]);
  }

  it('an ack and an unread count past the integer range are clamped; the chat and its messages are stored', async () => {
    const [first, second] = messagesFor('huge-count@c.us', 2);
    t.whatsapp.account = accountFromSpec({
      scanAfterMs: 0,
      fetchLatencyMs: 0,
      chats: [chat('huge-count@c.us', 0, { unreadCount: 3e9, messages: [{ ...first, ack: 3e9 }, second] }), chat('plain@c.us', 3)],
    });
    await t.readySession('range');
    const answer = await t.request('POST', '/whatsapp-web/session/range/sync-chats');
    expect({ status: answer.status, body: answer.body }).toEqual({
      status: 200,
      body: { ...OK, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 2, chatsFailed: 0, messagesSynced: 5, messagesInserted: 5, syncId: expect.any(String), durationMs: expect.any(Number) },
    });
    expect(await t.db.query('SELECT wa_id, unread_count FROM chats WHERE session_id = $1 ORDER BY wa_id', ['range'])).toEqual([
      { wa_id: 'huge-count@c.us', unread_count: 2147483647 },
      { wa_id: 'plain@c.us', unread_count: 0 },
    ]);
    expect(await t.db.query('SELECT ack FROM messages WHERE session_id = $1 AND wa_id = $2', ['range', first.id])).toEqual([{ ack: 2147483647 }]);
  });

  it('8 chats sharing 1,500 message ids in alternating order, and a chat listed twice: no deadlock, each stored once, counts equal rows, a re-sync writes nothing', async () => {
    const shared = messagesFor('shared@c.us', 1500).map((m) => ({ ...m, timestamp: BASE }));
    const sharers = Array.from({ length: 8 }, (_, n) =>
      chat(`sharer-${n}@c.us`, 0, { timestamp: BASE - n, messages: n % 2 === 0 ? shared : [...shared].reverse() }),
    );
    const twice = chat('twice@c.us', 4, { timestamp: BASE - 20 });
    t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [...sharers, twice, chat('own@c.us', 6), { ...twice }] });
    await t.readySession('shared');

    const expected = { ...OK, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: 10, chatsFailed: 0, messagesSynced: 1510, messagesInserted: 1510, syncId: expect.any(String), durationMs: expect.any(Number) };
    const first = await t.request('POST', '/whatsapp-web/session/shared/sync-chats?limitPerChat=2000');
    expect({ status: first.status, body: first.body }).toEqual({ status: 200, body: expected });
    expect(await t.db.counts('shared')).toEqual({ sessions: 1, chats: 10, messages: 1510, sync_runs: 1 });
    // Kept by the first chat of the run that lists them.
    expect(await t.db.query('SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id', ['shared'])).toEqual([
      { chat_id: 'own@c.us', n: 6 },
      { chat_id: 'sharer-0@c.us', n: 1500 },
      { chat_id: 'twice@c.us', n: 4 },
    ]);
    const before = await rowVersions('shared');

    for (let round = 0; round < 2; round++) {
      const again = await t.request('POST', '/whatsapp-web/session/shared/sync-chats?limitPerChat=2000');
      // The same counts, and no row new.
      expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { ...expected, messagesInserted: 0 } });
      expect(await rowVersions('shared')).toEqual(before);
    }
    expect(await t.request('GET', '/whatsapp-web/session/shared/sync-chats/latest')).toMatchObject({
      status: 200,
      body: { status: 'done', nChats: 10, currentChat: 10, messagesSynced: 1510, chatsFailed: 0 },
    });
  });
});
