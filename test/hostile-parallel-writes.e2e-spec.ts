import { setTimeout as delay } from 'node:timers/promises';
import { SimulatedAccountSpec, SimulatedChatSpec, SimulatedMessageSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat, messagesFor } from './support/accounts';
import { EventLog, TestApp } from './support/test-app';
import { gate, waitFor } from './support/wait';

/**
 * A hostile sweep of the sync's parallel chat writes (src/whatsapp/sync/write-window.ts, KeyedSerial's
 * shared tasks, the prepared message upsert, SAME_AS_STORED_SQL, saveChangedChats), from outside:
 * the real HTTP API, a real database, WhatsApp simulated.
 */

const OK = { success: true, message: 'Synchronization completed successfully' };
const BASE = 1_764_150_000;

type Answer = { status: number; body: Record<string, unknown> };

async function messagesPerChat(t: TestApp, sessionId: string): Promise<Record<string, number>> {
  const rows = await t.db.query<{ chat_id: string; n: number }>(
    'SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id',
    [sessionId],
  );
  return Object.fromEntries(rows.map((r) => [r.chat_id, r.n]));
}

/** Every row of the session in every table, reactions and kept changes included. */
async function everything(t: TestApp, sessionId: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const table of ['sessions', 'chats', 'messages', 'sync_runs', 'message_reactions', 'pending_message_changes']) {
    const [{ n }] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1`, [sessionId]);
    result[table] = n;
  }
  return result;
}

/** The app's connections to the test database; the test's own is spared. */
async function terminateAppConnections(t: TestApp): Promise<number> {
  const [{ n }] = await t.db.query<{ n: number }>(
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return n;
}

/** Makes the insert of message `waId` wait on advisory lock `lock` (held by the test) inside its statement. */
async function holdInsertOf(t: TestApp, name: string, waId: string, lock: number): Promise<{ release: () => Promise<void>; waiting: () => Promise<boolean>; drop: () => Promise<void> }> {
  await t.db.query('SELECT pg_advisory_lock($1)', [lock]);
  await t.db.query(`
    CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_advisory_lock_shared(${lock}); PERFORM pg_advisory_unlock_shared(${lock}); RETURN NEW; END $$`);
  await t.db.query(`CREATE TRIGGER ${name} BEFORE INSERT ON messages FOR EACH ROW WHEN (NEW.wa_id = '${waId}') EXECUTE FUNCTION ${name}()`);
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await t.db.query('SELECT pg_advisory_unlock($1)', [lock]);
  };
  return {
    release,
    waiting: async () => (await t.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`, [lock])).length > 0,
    drop: async () => {
      await release();
      await t.db.query(`DROP TRIGGER IF EXISTS ${name} ON messages`);
    },
  };
}

describe('PostgreSQL terminates the app\'s connections again and again while chats are written side by side', () => {
  let t: TestApp;
  // 24 chats: every third one 2,500 messages (a transaction of two statements), the others 40.
  const chats = Array.from({ length: 24 }, (_, n) => chat(`kill-${String(n).padStart(2, '0')}@c.us`, n % 3 === 0 ? 2500 : 40, { timestamp: BASE - n }));
  const sizes = Object.fromEntries(chats.map((c) => [c.id, c.messages.length]));
  const total = chats.reduce((sum, c) => sum + c.messages.length, 0);
  const pairs = new Set(chats.flatMap((c) => c.messages.map((m) => `${c.id} ${m.id}`)));

  beforeAll(async () => {
    t = await TestApp.start({ account: { scanAfterMs: 0, fetchLatencyMs: 5, chats } });
  });
  afterAll(() => t?.close());

  it('each run ends done, or failed with a 503 and sync_chats_failed; every chat is whole or absent, nothing twice or misplaced; the next sync is exact', async () => {
    await t.readySession('kills');
    const { log } = await t.joined('kills');
    const outcomes: number[] = [];
    let terminated = 0;
    let recorded = 0;
    for (let round = 0; round < 4; round++) {
      const failedBefore = log.of('sync_chats_failed').length;
      const eventsBefore = log.of('sync_chats').length;
      let ended = false;
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/kills/sync-chats?limitPerChat=3000').finally(() => (ended = true));
      // Each round lets the run go further (6 chats more) before the attack begins.
      await waitFor(() => ended || log.of('sync_chats').length >= eventsBefore + 1 + round * 12, `round ${round}: ${round * 6} chats reported`);
      // The attack: the app's backends terminated every 10 ms until the run answers.
      while (!ended) {
        terminated += await terminateAppConnections(t);
        await delay(10);
      }
      const { status, body } = await answer;
      outcomes.push(status);
      // A kill that hits the run's own row fails it before it starts: no row, no events.
      const unrecorded = String(body.message).startsWith('Synchronization failed: could not record the run: ');
      if (!unrecorded) recorded++;
      if (status === 200) {
        expect(body).toMatchObject({ ...OK, chatsProcessed: 24, chatsFailed: 0, messagesSynced: total });
      } else if (unrecorded) {
        expect(status).toBe(503);
      } else {
        expect({ status, body }).toEqual({ status: 503, body: { statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/^Synchronization failed: .+/) } });
        await log.waitFor('sync_chats_failed', failedBefore + 1);
        const event = log.of<{ error: string }>('sync_chats_failed')[failedBefore];
        expect(`Synchronization failed: ${event.error}`).toBe(body.message);
      }
      // Whole or absent, each chat, whatever the kill hit.
      const stored = await messagesPerChat(t, 'kills');
      for (const [chatId, n] of Object.entries(stored)) expect({ chatId, n }).toEqual({ chatId, n: sizes[chatId] });
      const rows = await t.db.query<{ key: string }>(`SELECT chat_id || ' ' || wa_id AS key FROM messages WHERE session_id = 'kills'`);
      expect(rows.filter((r) => !pairs.has(r.key))).toEqual([]);
      expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
    }
    expect(terminated).toBeGreaterThan(4);
    expect(outcomes.filter((s) => s !== 200 && s !== 503)).toEqual([]);

    await waitFor(async () => (await t.request('GET', '/health')).status === 200, '/health to recover');
    const again = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/kills/sync-chats?limitPerChat=3000');
    expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 24, chatsFailed: 0, messagesSynced: total } });
    expect(await messagesPerChat(t, 'kills')).toEqual(sizes);
    expect(await t.db.counts('kills')).toEqual({ sessions: 1, chats: 24, messages: total, sync_runs: recorded + 1 });
    // No run is left running in the database once the background retries of the outcomes are through.
    await waitFor(async () => (await t.db.query(`SELECT 1 FROM sync_runs WHERE session_id = 'kills' AND status = 'running'`)).length === 0, 'no run left running', 20_000);
  }, 90_000);
});

describe('live edits, acks, reactions, deletions and messages while the sync writes the same chats', () => {
  let t: TestApp;
  const big = (n: number) => chat(`live-${n}@c.us`, 2500, { timestamp: BASE - n });
  const chats = Array.from({ length: 6 }, (_, n) => big(n));
  const LOCK = 6_161_616;

  beforeAll(async () => {
    t = await TestApp.start({ account: { scanAfterMs: 0, fetchLatencyMs: 0, chats } });
  });
  afterAll(() => t?.close());

  async function row(sessionId: string, waId: string) {
    const [r] = await t.db.query<{ chat_id: string; body: string; ack: number; edited_at: number | null; revoked: boolean }>(
      'SELECT chat_id, body, ack, edited_at::int, revoked FROM messages WHERE session_id = $1 AND wa_id = $2',
      [sessionId, waId],
    );
    return r;
  }

  it('no change is lost or undone, no deadlock, and the counts are exact', async () => {
    await t.readySession('live');
    const client = t.whatsapp.clientOf('live')!;
    const m = (c: number, n: number) => chats[c].messages[n];
    // The first chat's write is held inside its transaction: its rows are written, not committed.
    const hold = await holdInsertOf(t, 'hold_live_first', m(0, 2400).id, LOCK);
    try {
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/live/sync-chats?limitPerChat=3000');
      await waitFor(() => hold.waiting(), 'the first chat\'s write held');
      const at = BASE + 1000;
      client.report((l) => {
        // A message whose write is held, one of a chat written beside it, one of the last chat.
        l.onMessageEdit({ messageId: m(0, 10).id, chatId: chats[0].id, body: 'edited while held', editedAt: at });
        l.onMessageEdit({ messageId: m(2, 10).id, chatId: chats[2].id, body: 'edited beside', editedAt: at });
        l.onMessageEdit({ messageId: m(5, 10).id, chatId: chats[5].id, body: 'edited ahead', editedAt: at });
        l.onMessageAck(m(1, 1).id, chats[1].id, 4);
        l.onMessageRevoke({ messageId: m(3, 5).id, chatId: chats[3].id, revokedAt: at });
        l.onMessageReaction({ messageId: m(4, 7).id, chatId: chats[4].id, senderId: 's@c.us', emoji: '🔥', timestamp: at });
        l.onMessageReaction({ messageId: m(0, 2499).id, chatId: chats[0].id, senderId: 's@c.us', emoji: '👍', timestamp: at });
      });
      const live: SimulatedMessageSpec = { ...m(0, 2499), id: 'true_live-0@c.us_3EB0LIVE', body: 'live while held', timestamp: BASE + 5 };
      client.receiveMessage({ ...live, chatId: chats[0].id, raw: { ...live } });
      await hold.release();
      const done = await answer;
      expect({ status: done.status, body: done.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 6, chatsFailed: 0, messagesSynced: 6 * 2500 } });
    } finally {
      await hold.drop();
    }
    await waitFor(async () => (await row('live', 'true_live-0@c.us_3EB0LIVE')) !== undefined && (await row('live', m(5, 10).id))?.body === 'edited ahead', 'the live writes stored');
    const check = async () => {
      expect(await row('live', m(0, 10).id)).toEqual({ chat_id: chats[0].id, body: 'edited while held', ack: m(0, 10).ack, edited_at: BASE + 1000, revoked: false });
      expect(await row('live', m(2, 10).id)).toEqual({ chat_id: chats[2].id, body: 'edited beside', ack: m(2, 10).ack, edited_at: BASE + 1000, revoked: false });
      expect(await row('live', m(5, 10).id)).toEqual({ chat_id: chats[5].id, body: 'edited ahead', ack: m(5, 10).ack, edited_at: BASE + 1000, revoked: false });
      expect((await row('live', m(1, 1).id)).ack).toBe(4);
      expect(await row('live', m(3, 5).id)).toMatchObject({ body: '', revoked: true });
      expect(await row('live', 'true_live-0@c.us_3EB0LIVE')).toMatchObject({ chat_id: chats[0].id, body: 'live while held' });
      expect(await t.db.query('SELECT message_id, emoji FROM message_reactions WHERE session_id = $1 ORDER BY message_id', ['live'])).toEqual(
        [
          { message_id: m(0, 2499).id, emoji: '👍' },
          { message_id: m(4, 7).id, emoji: '🔥' },
        ].sort((a, b) => (a.message_id < b.message_id ? -1 : 1)),
      );
      expect(await t.db.query('SELECT message_id FROM pending_message_changes WHERE session_id = $1', ['live'])).toEqual([]);
      expect(await messagesPerChat(t, 'live')).toEqual({ ...Object.fromEntries(chats.map((c) => [c.id, 2500])), [chats[0].id]: 2501 });
    };
    await check();
    // A re-sync fetches the messages as the account has them (without the changes): nothing is undone.
    const again = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/live/sync-chats?limitPerChat=3000');
    expect({ status: again.status, body: again.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 6, messagesSynced: 6 * 2500, messagesInserted: 0 } });
    await check();
  }, 60_000);
});

describe('DELETE ?purge=true racing an incremental run, a second trigger and live traffic', () => {
  let t: TestApp;
  const first = (): SimulatedAccountSpec => ({
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats: Array.from({ length: 20 }, (_, n) => chat(`purge-${String(n).padStart(2, '0')}@c.us`, 600, { timestamp: BASE - 1000 - n })),
  });
  /** Every chat renamed (its row differs) and 300 messages newer than the stored ones, fetched with some latency. */
  const second = (): SimulatedAccountSpec => ({
    scanAfterMs: 0,
    fetchLatencyMs: 50,
    chats: first().chats.map((c, n) => chat(c.id, 0, { name: `renamed ${n}`, timestamp: BASE + n, messages: [...c.messages, ...messagesFor(`${c.id}-new`, 300, BASE + n).map((m) => ({ ...m, id: `${m.id}-new` }))] })),
  });

  beforeAll(async () => {
    t = await TestApp.start({ account: first() });
  });
  afterAll(() => t?.close());

  it('when the delete answers nothing of the session remains, nor once every trigger and live write has ended', async () => {
    const id = 'purge-inc';
    await t.readySession(id);
    expect((await t.request('POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=1000`)).status).toBe(200);
    t.whatsapp.account = accountFromSpec(second());
    const client = t.whatsapp.clientOf(id)!;
    const run = t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats?mode=incremental&limitPerChat=1000`);
    await waitFor(async () => (await t.db.counts(id)).messages > 20 * 600 + 600, 'the run writing new messages');
    const joined = t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats?limitPerChat=1000`);
    // Live traffic until the delete answers: messages, changes to messages not stored yet (kept), reactions.
    let deleting = true;
    let sent = 0;
    const traffic = (async () => {
      while (deleting) {
        try {
          const n = sent++;
          const chatId = `purge-${String(n % 20).padStart(2, '0')}@c.us`;
          client.receiveMessage({ ...messagesFor(chatId, 1)[0], id: `live-${n}`, chatId, raw: {} });
          client.report((l) => {
            l.onMessageEdit({ messageId: `later-${n}`, chatId, body: 'kept', editedAt: BASE });
            l.onMessageReaction({ messageId: `live-${n}`, chatId, senderId: 's@c.us', emoji: '👍', timestamp: BASE });
          });
        } catch {
          // The client is logged out: nothing more to send.
        }
        await delay(2);
      }
    })();
    const deleted = await t.request('DELETE', `/whatsapp-web/session/${id}?purge=true`);
    deleting = false;
    expect({ status: deleted.status, body: deleted.body }).toEqual({ status: 200, body: { sessionId: id, deleted: true, purged: true } });
    const nothing = { sessions: 0, chats: 0, messages: 0, sync_runs: 0, message_reactions: 0, pending_message_changes: 0 };
    expect(await everything(t, id)).toEqual(nothing);
    await traffic;
    expect(sent).toBeGreaterThan(0);
    const conflict = { status: 409, body: { statusCode: 409, error: 'Conflict', message: `Synchronization failed: session ${id} is no longer ready (status: deleted)` } };
    const [a, b] = await Promise.all([run, joined]);
    // The run either ended before the delete reached it, or stopped at its next chat; the second
    // trigger got its result, or (the session gone by then) a run of its own was refused.
    if (a.status === 200) expect(a.body).toMatchObject({ ...OK, mode: 'incremental' });
    else expect({ status: a.status, body: a.body }).toEqual(conflict);
    const refused = { status: 404, body: { statusCode: 404, error: 'Not Found', message: expect.stringContaining(id) } };
    expect([JSON.stringify({ status: a.status, body: a.body }), 'refused']).toContain(b.status === 404 ? 'refused' : JSON.stringify({ status: b.status, body: b.body }));
    if (b.status === 404) expect({ status: b.status, body: b.body }).toEqual(refused);
    expect(await everything(t, id)).toEqual(nothing);

    // Started again, the session syncs exactly the account: nothing stale was left behind.
    await t.readySession(id);
    const fresh = await t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats?mode=incremental&limitPerChat=1000`);
    expect({ status: fresh.status, body: fresh.body }).toMatchObject({ status: 200, body: { ...OK, mode: 'incremental', chatsProcessed: 20, chatsSkipped: 0, messagesSynced: 20 * 900, messagesInserted: 20 * 900 } });
    expect(await everything(t, id)).toEqual({ ...nothing, sessions: 1, chats: 20, messages: 20 * 900, sync_runs: 1 });
  }, 60_000);
});

describe('hostile strings and shared ids in incremental runs', () => {
  let t: TestApp;
  /** Names and raw values PostgreSQL cannot store as they are, and raw keys that differ only by a NUL. */
  const hostile = (names: string[], extra: Record<string, unknown>): SimulatedAccountSpec => {
    const shared = messagesFor('shared@c.us', 2500).map((m) => ({ ...m, timestamp: BASE - 10_000 }));
    const chats: SimulatedChatSpec[] = names.map((name, n) => ({
      ...chat(`odd-${n}@c.us`, 0, { name, timestamp: BASE - n, messages: [...(n % 2 === 0 ? shared : [...shared].reverse()), ...messagesFor(`odd-${n}@c.us`, 3)] }),
      ...{ extra },
    }) as SimulatedChatSpec);
    return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [...chats, chats[1]] };
  };
  const NAMES = ['nul\u0000inside', 'lone \uD800 high', 'lone \uDFFF low', 'pair 😀 \u0000', '\u0000', 'plain'];
  const EXTRA = { 'k\u0000': 'first', k: 'second', ['\uDBFF']: ['\u0000', '\uDC00x'], nested: { a: 1.5, b: 2 ** 60, c: -0, d: 1e21 } };

  beforeAll(async () => {
    t = await TestApp.start({ account: hostile(NAMES, EXTRA) });
  });
  afterAll(() => t?.close());

  async function versions(sessionId: string) {
    return {
      chats: await t.db.query('SELECT wa_id, name, xmin::text FROM chats WHERE session_id = $1 ORDER BY wa_id', [sessionId]),
      messages: await t.db.query('SELECT chat_id, count(*)::int AS n, max(xmin::text::bigint)::text AS newest FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id', [sessionId]),
    };
  }

  it('a full run, then incremental ones: nothing changed costs no chat upsert; a change only in what cannot be stored is no change; a real one is stored', async () => {
    await t.readySession('odd');
    const full = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd/sync-chats?limitPerChat=3000');
    // 6 chats (one listed twice) sharing 2,500 ids in alternating order: the first keeps them.
    expect({ status: full.status, body: full.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 6, chatsFailed: 0, messagesSynced: 2500 + 6 * 3, messagesInserted: 2500 + 6 * 3 } });
    const before = await versions('odd');
    expect(before.chats.map((c) => (c as { name: string }).name)).toEqual(['nulinside', 'lone \uFFFD high', 'lone \uFFFD low', 'pair 😀 ', '', 'plain']);

    t.sql.startRecording();
    const idle = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd/sync-chats?mode=incremental');
    // Besides the run's own row and its outbox row.
    const statements = t.sql.stopRecording().filter((sql) => !/sync_runs|session_leases|message_media|INSERT INTO webhook_deliveries|^\s*(START TRANSACTION|BEGIN|COMMIT)/i.test(sql));
    expect({ status: idle.status, body: idle.body }).toMatchObject({ status: 200, body: { ...OK, mode: 'incremental', chatsProcessed: 0, chatsSkipped: 6 } });
    expect(statements).toHaveLength(1);
    expect(statements[0]).not.toContain('INSERT');
    expect(await versions('odd')).toEqual(before);

    // The same chats as PostgreSQL stores them (another lone surrogate, the NULs elsewhere): equal.
    t.whatsapp.account = accountFromSpec(hostile(['nulinside\u0000', 'lone \uDBFF high', 'lone \uDC00 low', 'pair 😀 ', '\u0000\u0000', 'plain'], { ...EXTRA, 'k\u0000': 'first' }));
    t.sql.startRecording();
    const same = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd/sync-chats?mode=incremental');
    const sameStatements = t.sql.stopRecording().filter((sql) => !/sync_runs|session_leases|message_media|INSERT INTO webhook_deliveries|^\s*(START TRANSACTION|BEGIN|COMMIT)/i.test(sql));
    expect({ status: same.status, body: same.body }).toMatchObject({ status: 200, body: { chatsProcessed: 0, chatsSkipped: 6 } });
    expect(sameStatements).toHaveLength(1);
    expect(await versions('odd')).toEqual(before);

    // Real changes: a name, and the raw value the NUL-collapsed key keeps (the later key wins).
    t.whatsapp.account = accountFromSpec(hostile(['nul\u0000inside, renamed', ...NAMES.slice(1)], { k: 'second', 'k\u0000': 'changed', ['\uDBFF']: EXTRA['\uDBFF'], nested: EXTRA.nested }));
    const changed = await t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/odd/sync-chats?mode=incremental');
    expect({ status: changed.status, body: changed.body }).toMatchObject({ status: 200, body: { ...OK, chatsFailed: 0, chatsSkipped: 6, messagesInserted: 0 } });
    const rows = await t.db.query<{ wa_id: string; name: string; k: string }>(`SELECT wa_id, name, raw->'extra'->>'k' AS k FROM chats WHERE session_id = 'odd' ORDER BY wa_id`);
    expect(rows).toEqual([
      { wa_id: 'odd-0@c.us', name: 'nulinside, renamed', k: 'changed' },
      ...['lone \uFFFD high', 'lone \uFFFD low', 'pair 😀 ', '', 'plain'].map((name, n) => ({ wa_id: `odd-${n + 1}@c.us`, name, k: 'changed' })),
    ]);
    expect((await versions('odd')).messages).toEqual(before.messages);
  }, 60_000);
});

/*
 * A run checks before each write that the session is still ready with the client the run started
 * with: after a stop and a start the status is `ready` again, but the stopped run's chats fetched
 * ahead must not be written, and a trigger after the restart gets a run of its own.
 */
describe('POST stop, then start again, while a run waits on a fetch', () => {
  let t: TestApp;
  const chats = Array.from({ length: 12 }, (_, n) => chat(`zombie-${String(n).padStart(2, '0')}@c.us`, 10, { timestamp: BASE - n }));

  beforeAll(async () => {
    t = await TestApp.start({ account: { scanAfterMs: 0, fetchLatencyMs: 0, chats } });
  });
  afterAll(() => t?.close());

  it('the stopped run ends 409 and writes nothing after the stop; a trigger after the restart gets a run of its own that completes', async () => {
    await t.readySession('zombie');
    const { log } = await t.joined('zombie');
    const hold = gate();
    let reached = false;
    t.whatsapp.beforeFetch = (session, chatId) => {
      if (session !== 'zombie' || chatId !== chats[3].id) return undefined;
      reached = true;
      return hold.promise;
    };
    const first = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/zombie/sync-chats');
    await waitFor(() => reached, 'the fourth chat\'s fetch held');
    // The first three chats are stored and reported, the fourth is the one being reported.
    await log.waitFor('sync_chats', 1 + 3 * 2 + 1);
    // The chats after it are fetched ahead, waiting for their turn.
    expect((await t.request('POST', '/whatsapp-web/session/zombie/stop')).status).toBe(200);
    const atStop = await t.db.counts('zombie');
    expect(atStop.messages).toBe(30);
    await t.readySession('zombie');
    // The run of the restarted session holds at its first chat until the first run's outcome is checked.
    const holdSecond = gate();
    t.whatsapp.beforeFetch = (session, chatId) => (session === 'zombie' && chatId === chats[0].id ? holdSecond.promise : undefined);
    const second = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/zombie/sync-chats');
    hold.open();
    const a = await first;
    // The chats fetched ahead before the stop were not written after it.
    expect((await t.db.counts('zombie')).messages).toBe(atStop.messages);
    holdSecond.open();
    const b = await second;
    t.whatsapp.beforeFetch = undefined;
    expect({ status: a.status, body: a.body }).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: 'Synchronization failed: session zombie was stopped and started again during the run' },
    });
    await log.waitFor('sync_chats_failed');
    expect(b.body.syncId).not.toBe(a.body.syncId);
    expect({ status: b.status, body: b.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 12, chatsFailed: 0, messagesSynced: 120 } });
  });
});

/*
 * A run writes at most as many chats at once as the pool leaves connections for (writeConcurrency in
 * src/whatsapp/sync/write-window.ts): with a pool of 1 one after another, so that the writes behind a
 * slow one never wait for a connection past the pool's timeout (10 s), which would fail the run.
 */
describe('DB_POOL_SIZE=1 and one slow chat write', () => {
  let t: TestApp;
  const chats = Array.from({ length: 4 }, (_, n) => chat(`pool-${n}@c.us`, 10, { timestamp: BASE - n }));
  const LOCK = 7_171_717;

  beforeAll(async () => {
    t = await TestApp.start({ env: { DB_POOL_SIZE: '1' }, account: { scanAfterMs: 0, fetchLatencyMs: 0, chats } });
  });
  afterAll(() => t?.close());

  it('a first chat whose write takes 11 s does not fail the run: the chats after it wait for it', async () => {
    await t.readySession('pool');
    const log: EventLog = (await t.joined('pool')).log;
    const hold = await holdInsertOf(t, 'hold_pool_first', chats[0].messages[0].id, LOCK);
    try {
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/pool/sync-chats');
      await waitFor(() => hold.waiting(), 'the first chat\'s write held');
      // A write held for longer than the pool's connection timeout (10 s): a lock wait, a slow disk.
      const heldSince = Date.now();
      await waitFor(() => Date.now() - heldSince > 11_000, '11 s of the held write', 12_000);
      await hold.release();
      const done = await answer;
      expect({ status: done.status, body: done.body }).toMatchObject({ status: 200, body: { ...OK, chatsProcessed: 4, chatsFailed: 0, messagesSynced: 40 } });
      expect(log.of('sync_chats_failed')).toEqual([]);
    } finally {
      await hold.drop();
    }
  }, 30_000);
});
