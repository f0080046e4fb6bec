import { Socket } from 'socket.io-client';
import { chat } from './support/accounts';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Issue #6, soak (bounded): 20 sessions of the simulated provider sync in parallel (20 chats of 20
 * messages each) while 50 sockets join and leave rooms. Afterwards every row count is exact and no
 * socket saw an event of a session it had not joined.
 */

const SESSIONS = 20;
const CHATS = 20;
const MESSAGES = 20;
const SOCKETS = 50;

interface Payload {
  sessionId: string;
  currentChat?: number;
  nChats?: number;
  chatId?: string;
  messagesSynced?: number;
}

const sessionIds = Array.from({ length: SESSIONS }, (_, n) => `soak-${String(n).padStart(2, '0')}`);
const chatIds = Array.from({ length: CHATS }, (_, n) => `${4_915_550_000 + n}@c.us`);

describe('soak: 20 sessions syncing in parallel while 50 sockets join and leave', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({
      // A little latency per fetch, so that runs overlap each other and the socket churn.
      account: { scanAfterMs: 0, fetchLatencyMs: 5, chats: chatIds.map((id) => chat(id, MESSAGES)) },
      // Many requests from one address in a few seconds: the rate limit is not what this test is about.
      env: { RATE_LIMIT_MAX: '0', DB_POOL_SIZE: '10' },
    });
  });
  afterAll(() => t?.close());

  it('every run completes, every count is exact, and every socket saw only its own session', async () => {
    for (const id of sessionIds) expect((await t.request('POST', `/whatsapp-web/session/${id}/start`)).status).toBe(201);
    await waitFor(async () => {
      const { body } = await t.request<Array<{ sessionId: string; status: string }>>('GET', '/whatsapp-web/sessions');
      return body.filter((s) => s.status === 'ready').length === SESSIONS;
    }, 'every session ready');

    // Socket n belongs to session n % 20. The first 20 stay in their room throughout; the next 28
    // leave and join theirs again and again while the runs go; the last 2 never join anything.
    const sockets: Array<{ socket: Socket; log: EventLog; sessionId: string; role: 'steady' | 'churn' | 'idle'; cycles: number }> = [];
    for (let n = 0; n < SOCKETS; n++) {
      const socket = await t.socket();
      const role = n < SESSIONS ? 'steady' : n < SOCKETS - 2 ? 'churn' : 'idle';
      sockets.push({ socket, log: new EventLog(socket), sessionId: sessionIds[n % SESSIONS], role, cycles: 0 });
    }
    for (const s of sockets.filter((s) => s.role !== 'idle')) {
      expect(await emitWithAck(s.socket, 'join-session', { sessionId: s.sessionId })).toEqual({ ok: true });
    }

    let running = true;
    const churn = Promise.all(
      sockets
        .filter((s) => s.role === 'churn')
        .map(async (s) => {
          while (running) {
            expect(await emitWithAck(s.socket, 'leave-session', { sessionId: s.sessionId })).toEqual({ ok: true });
            expect(await emitWithAck(s.socket, 'join-session', { sessionId: s.sessionId })).toEqual({ ok: true });
            s.cycles++;
          }
        }),
    );
    const started = Date.now();
    const answers = await Promise.all(sessionIds.map((id) => t.request<Record<string, unknown>>('POST', `/whatsapp-web/session/${id}/sync-chats`)));
    running = false;
    await churn;
    const elapsedMs = Date.now() - started;

    for (const [n, answer] of answers.entries()) {
      expect({ sessionId: sessionIds[n], status: answer.status, body: answer.body }).toEqual({
        sessionId: sessionIds[n],
        status: 200,
        body: {
          success: true,
          message: 'Synchronization completed successfully',
          mode: 'full',
          chatsProcessed: CHATS,
          chatsFailed: 0,
          chatsSkipped: 0,
          chatsWithGap: 0,
          messagesSynced: CHATS * MESSAGES,
          messagesInserted: CHATS * MESSAGES,
          syncId: expect.any(String),
          durationMs: expect.any(Number),
        },
      });
    }
    expect(elapsedMs).toBeLessThan(30_000);

    // Exact counts, per session and in total.
    expect(await t.db.counts()).toEqual({ sessions: SESSIONS, chats: SESSIONS * CHATS, messages: SESSIONS * CHATS * MESSAGES, sync_runs: SESSIONS });
    const perSession = await t.db.query<{ session_id: string; chats: number; messages: number }>(`
      SELECT s.session_id,
             (SELECT count(*)::int FROM chats c WHERE c.session_id = s.session_id) AS chats,
             (SELECT count(*)::int FROM messages m WHERE m.session_id = s.session_id) AS messages
      FROM sessions s ORDER BY s.session_id`);
    expect(perSession).toEqual(sessionIds.map((id) => ({ session_id: id, chats: CHATS, messages: CHATS * MESSAGES })));
    expect(await t.db.query("SELECT status, count(*)::int AS n, sum(messages_synced)::int AS m FROM sync_runs GROUP BY status")).toEqual([
      { status: 'done', n: SESSIONS, m: SESSIONS * CHATS * MESSAGES },
    ]);
    expect(await t.db.query('SELECT count(*)::int AS n FROM (SELECT session_id, chat_id FROM messages GROUP BY 1, 2 HAVING count(*) <> $1) odd', [MESSAGES])).toEqual([{ n: 0 }]);

    // Every steady socket has its session's sync_chats_done; then everything sent before now has arrived.
    await waitFor(() => sockets.filter((s) => s.role === 'steady').every((s) => s.log.of('sync_chats_done').length === 1), 'every steady socket to see its run end');
    for (const s of sockets) expect(await emitWithAck(s.socket, 'leave-session', { sessionId: 'barrier' })).toEqual({ ok: true });

    // No socket saw another session's event.
    const foreign = sockets.flatMap((s) => s.log.events.filter((e) => (e.payload as Payload).sessionId !== s.sessionId).map((e) => `${s.sessionId} got ${e.event} of ${(e.payload as Payload).sessionId}`));
    expect(foreign).toEqual([]);
    expect(sockets.filter((s) => s.role === 'idle').map((s) => s.log.events)).toEqual([[], []]);

    // A socket that stayed in its room saw its run's whole event flow, in order, exactly once.
    const flow = (sessionId: string) => [
      { sessionId, nChats: CHATS, currentChat: 0, messagesSynced: 0 },
      ...chatIds.flatMap((chatId, k) => [
        { sessionId, nChats: CHATS, currentChat: k + 1, chatId, messagesSynced: 0 },
        { sessionId, nChats: CHATS, currentChat: k + 1, chatId, messagesSynced: MESSAGES },
      ]),
    ];
    for (const s of sockets.filter((s) => s.role === 'steady')) {
      expect({ sessionId: s.sessionId, events: s.log.of('sync_chats') }).toEqual({ sessionId: s.sessionId, events: flow(s.sessionId) });
      expect(s.log.of('sync_chats_failed')).toEqual([]);
      expect(s.log.of('sync_chats_done')).toEqual([
        { sessionId: s.sessionId, syncId: answers[sessionIds.indexOf(s.sessionId)].body.syncId, mode: 'full', chatsSkipped: 0, chatsWithGap: 0, chatsProcessed: CHATS, chatsFailed: 0, messagesSynced: CHATS * MESSAGES, messagesInserted: CHATS * MESSAGES, durationMs: expect.any(Number) },
      ]);
    }

    // A socket that kept leaving and joining saw a subset of that flow (the replay on joining
    // included), in order: progress never went backwards.
    for (const s of sockets.filter((s) => s.role === 'churn')) {
      expect(s.cycles).toBeGreaterThan(0);
      const progress = s.log.of<Payload>('sync_chats').map((e) => [e.currentChat!, e.messagesSynced!]);
      const sorted = [...progress].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect({ sessionId: s.sessionId, progress }).toEqual({ sessionId: s.sessionId, progress: sorted });
      expect(s.log.of('sync_chats_failed')).toEqual([]);
      expect(s.log.of('sync_chats_done').length).toBeLessThanOrEqual(1);
    }
  }, 45_000);
});
