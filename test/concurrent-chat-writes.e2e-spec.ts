import { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat, messagesFor } from './support/accounts';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * A run writes several chats at once (src/whatsapp/sync/write-window.ts) yet reports them in order,
 * and never lets two chats that list the same message id write at once: the id stays with the
 * chat listed first, exactly as if the chats were written one after another.
 */

const LOCK = 5_151_515;
const SHARED_ID = 'false_shared@c.us_3EB0SHARED';

/**
 * `first@c.us`: 30 messages, the shared one its newest (so the last row its statement inserts);
 * `beside@c.us`: 5 messages of its own; `later@c.us`: the shared message first, then 4 of its own.
 */
function account(): SimulatedAccountSpec {
  const shared = { ...messagesFor('first@c.us', 31)[30], id: SHARED_ID };
  return {
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats: [
      chat('first@c.us', 0, { messages: [...messagesFor('first@c.us', 30, shared.timestamp - 60), shared] }),
      chat('beside@c.us', 5),
      chat('later@c.us', 0, { messages: [{ ...shared, timestamp: shared.timestamp - 3600 }, ...messagesFor('later@c.us', 4)] }),
    ],
  };
}

describe('chats written at once within a run', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account() });
  });
  afterAll(() => t?.close());

  async function messagesPerChat(sessionId: string): Promise<Record<string, number>> {
    const rows = await t.db.query<{ chat_id: string; n: number }>(
      'SELECT chat_id, count(*)::int AS n FROM messages WHERE session_id = $1 GROUP BY chat_id ORDER BY chat_id',
      [sessionId],
    );
    return Object.fromEntries(rows.map((r) => [r.chat_id, r.n]));
  }

  it('a chat sharing no message is written while an earlier one is held; one that shares waits for it; events stay in order', async () => {
    const fetched = new Set<string>();
    t.whatsapp.beforeFetch = (session, chatId) => void (session === 'overlap' && fetched.add(chatId));
    await t.readySession('overlap');
    const { log } = await t.joined('overlap');
    // The first chat's statement blocks on a lock the test holds, at its first row: nothing of it committed.
    await t.db.query('SELECT pg_advisory_lock($1)', [LOCK]);
    await t.db.query(`
      CREATE OR REPLACE FUNCTION hold_first_chat() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_lock_shared(${LOCK}); PERFORM pg_advisory_unlock_shared(${LOCK}); RETURN NEW; END $$`);
    await t.db.query(`
      CREATE TRIGGER hold_first_chat BEFORE INSERT ON messages FOR EACH ROW
      WHEN (NEW.wa_id = '${messagesFor('first@c.us', 30)[0].id}') EXECUTE FUNCTION hold_first_chat()`);
    try {
      const answer = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/overlap/sync-chats');
      await waitFor(async () => (await t.db.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1`, [LOCK])).length === 1, 'the first chat\'s write to wait');
      // Written beside the held one, before its turn is reported.
      await waitFor(async () => (await messagesPerChat('overlap'))['beside@c.us'] === 5, 'the second chat written meanwhile');
      await waitFor(() => fetched.has('later@c.us'), 'the third chat fetched');
      // Let the run hand the third chat to its writes, were it not held back by the shared id.
      await new Promise((resolve) => setImmediate(resolve));
      expect(await messagesPerChat('overlap')).toEqual({ 'beside@c.us': 5 });
      // The first chat's first event has left; the first chat is not reported stored.
      await log.waitFor('sync_chats', 2);
      expect(log.of('sync_chats').map((e) => e.chatId)).toEqual([undefined, 'first@c.us']);

      await t.db.query('SELECT pg_advisory_unlock($1)', [LOCK]);
      const done = await answer;
      expect({ status: done.status, body: done.body }).toMatchObject({ status: 200, body: { chatsProcessed: 3, chatsFailed: 0, messagesSynced: 31 + 5 + 4, messagesInserted: 31 + 5 + 4 } });
    } finally {
      await t.db.query('SELECT pg_advisory_unlock_all()');
      await t.db.query('DROP TRIGGER IF EXISTS hold_first_chat ON messages');
    }
    // The shared message is the first chat's, as in a run that writes one chat after another.
    expect(await messagesPerChat('overlap')).toEqual({ 'first@c.us': 31, 'beside@c.us': 5, 'later@c.us': 4 });
    expect(await t.db.query(`SELECT chat_id FROM messages WHERE session_id = 'overlap' AND wa_id = $1`, [SHARED_ID])).toEqual([{ chat_id: 'first@c.us' }]);
    await log.waitFor('sync_chats_done');
    expect(log.of('sync_chats').map((e) => [e.chatId, e.currentChat, e.messagesSynced])).toEqual([
      [undefined, 0, 0],
      ['first@c.us', 1, 0],
      ['first@c.us', 1, 31],
      ['beside@c.us', 2, 0],
      ['beside@c.us', 2, 5],
      ['later@c.us', 3, 0],
      ['later@c.us', 3, 4],
    ]);
  });
});
