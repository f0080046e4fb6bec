import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedAccountSpec, SimulatedChatSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WhatsappWebService } from '../src/whatsapp/whatsapp-web.service';
import { chat, messagesFor } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { gate, waitFor } from './support/wait';

/**
 * Automatic catch-up (`SYNC_ON_READY`): every transition of a session to `ready` starts a run by
 * itself, in process and across restarts and crashes of the service.
 */

const BASE = 1_764_150_000;
const NEVER_SCANNED = 10 * 60_000;

function account(chats: number, messages: number, extra: Partial<SimulatedAccountSpec> = {}): SimulatedAccountSpec {
  return {
    scanAfterMs: 0,
    fetchLatencyMs: 0,
    chats: Array.from({ length: chats }, (_, n) => {
      const id = `${1000 + n}@c.us`;
      return chat(id, messages, { timestamp: BASE - n * 60, messages: messagesFor(id, messages, BASE - n * 60) });
    }),
    ...extra,
  };
}

/** The chat with `more` messages after its last (the ones it had keep their ids and timestamps). */
function grown(spec: SimulatedChatSpec, more: number): SimulatedChatSpec {
  const last = (spec.timestamp ?? BASE) + more * 60;
  return { ...spec, timestamp: last, messages: messagesFor(spec.id, spec.messages.length + more, last) };
}

const allIds = (spec: SimulatedAccountSpec) => spec.chats.flatMap((c) => c.messages.map((m) => m.id)).sort();

describe('SYNC_ON_READY=incremental, in process', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(4, 20, { scanAfterMs: NEVER_SCANNED }), env: { SYNC_ON_READY: 'incremental', SYNC_ON_READY_LIMIT: '10' } });
  });
  afterEach(() => {
    t.whatsapp.account = accountFromSpec(account(4, 20, { scanAfterMs: NEVER_SCANNED }));
    t.whatsapp.beforeFetch = undefined;
  });
  afterAll(() => t.close());

  async function started(sessionId: string) {
    expect((await t.request('POST', `/whatsapp-web/session/${sessionId}/start`)).status).toBe(201);
    return t.joined(sessionId);
  }

  it('a login starts a run by itself: its events to the room, a sync_runs row with trigger "ready"', async () => {
    const { log } = await started('auto');
    t.whatsapp.clientOf('auto')!.scan();
    await log.waitFor('sync_chats_done');

    const names = log.events.map((e) => e.event);
    expect(names.indexOf('sync_chats')).toBeGreaterThan(names.lastIndexOf('session_status'));
    expect(log.of('session_status').map((e) => e.status)).toEqual(['qr', 'authenticated', 'ready']);
    const ids = ['1000@c.us', '1001@c.us', '1002@c.us', '1003@c.us'];
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'auto', nChats: 4, currentChat: 0, messagesSynced: 0 },
      ...ids.flatMap((chatId, i) => [
        { sessionId: 'auto', nChats: 4, currentChat: i + 1, chatId, messagesSynced: 0 },
        { sessionId: 'auto', nChats: 4, currentChat: i + 1, chatId, messagesSynced: 10 },
      ]),
    ]);
    expect(log.of('sync_chats_done')).toEqual([
      {
        sessionId: 'auto',
        syncId: expect.any(String),
        mode: 'incremental',
        chatsProcessed: 4,
        chatsFailed: 0,
        chatsSkipped: 0,
        chatsWithGap: 0,
        messagesSynced: 40,
        messagesInserted: 40,
        durationMs: expect.any(Number),
      },
    ]);
    expect(await t.db.query('SELECT status, mode, trigger, limit_per_chat, n_chats, messages_inserted FROM sync_runs WHERE session_id = $1', ['auto'])).toEqual([
      { status: 'done', mode: 'incremental', trigger: 'ready', limit_per_chat: 10, n_chats: 4, messages_inserted: '40' },
    ]);
    expect((await t.request('GET', '/whatsapp-web/session/auto/sync-chats/latest')).body).toMatchObject({ status: 'done', mode: 'incremental', trigger: 'ready' });
  });

  it('a disconnect, new messages meanwhile, a start: the catch-up stores them with no sync call', async () => {
    const { log } = await t.joined('auto');
    t.whatsapp.clientOf('auto')!.disconnect('phone offline');
    await waitFor(async () => (await t.request<{ status: string }>('GET', '/whatsapp-web/session/auto')).body.status === 'disconnected', 'auto disconnected');
    const changed = account(4, 20, { scanAfterMs: NEVER_SCANNED });
    changed.chats[2] = grown(changed.chats[2], 3);
    t.whatsapp.account = accountFromSpec(changed);

    // The login is kept: the start goes straight to ready, and the catch-up follows.
    expect((await t.request('POST', '/whatsapp-web/session/auto/start')).status).toBe(201);
    await log.waitFor('sync_chats_done');

    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'auto', nChats: 1, currentChat: 0, messagesSynced: 0 },
      { sessionId: 'auto', nChats: 1, currentChat: 1, chatId: '1002@c.us', messagesSynced: 0 },
      { sessionId: 'auto', nChats: 1, currentChat: 1, chatId: '1002@c.us', messagesSynced: 10 },
    ]);
    expect(log.of('sync_chats_done')).toEqual([expect.objectContaining({ mode: 'incremental', chatsProcessed: 1, chatsSkipped: 3, messagesInserted: 3 })]);
    expect(await t.db.query('SELECT count(*)::int AS n FROM messages WHERE session_id = $1 AND chat_id = $2', ['auto', '1002@c.us'])).toEqual([{ n: 13 }]);
    expect(await t.db.query('SELECT trigger, n_chats, chats_skipped FROM sync_runs WHERE session_id = $1 ORDER BY started_at', ['auto'])).toEqual([
      { trigger: 'ready', n_chats: 4, chats_skipped: 0 },
      { trigger: 'ready', n_chats: 1, chats_skipped: 3 },
    ]);
  });

  it('a trigger arriving while the automatic run goes joins it, whatever mode it asks for', async () => {
    const hold = gate();
    t.whatsapp.beforeFetch = () => hold.promise;
    const { log } = await started('joined');
    t.whatsapp.clientOf('joined')!.scan();
    await waitFor(() => log.of('sync_chats').length === 2, 'the automatic run at its first chat');

    const calls = jest.spyOn(t.app.get(WhatsappWebService), 'syncChatsWithProgress');
    const manual = t.request<Record<string, unknown>>('POST', '/whatsapp-web/session/joined/sync-chats?mode=full');
    await waitFor(() => calls.mock.calls.some(([id]) => id === 'joined'), 'the manual trigger to reach the service');
    hold.open();
    const answer = await manual;
    calls.mockRestore();
    await log.waitFor('sync_chats_done');

    const [done] = log.of<{ syncId: string }>('sync_chats_done');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ success: true, syncId: done.syncId, mode: 'incremental', chatsProcessed: 4, messagesSynced: 40 });
    expect(await t.db.query('SELECT id, trigger FROM sync_runs WHERE session_id = $1', ['joined'])).toEqual([{ id: done.syncId, trigger: 'ready' }]);
  });
});

describe('SYNC_ON_READY=full and off', () => {
  it('full: a full run of SYNC_ON_READY_LIMIT per chat, recorded trigger "ready"', async () => {
    const t = await TestApp.start({ account: account(2, 8), env: { SYNC_ON_READY: 'full', SYNC_ON_READY_LIMIT: '3' } });
    try {
      await t.readySession('full-auto');
      await waitFor(async () => (await t.db.query("SELECT 1 FROM sync_runs WHERE session_id = 'full-auto' AND status = 'done'")).length === 1, 'the automatic run');
      expect(await t.db.query('SELECT mode, trigger, limit_per_chat, messages_synced FROM sync_runs WHERE session_id = $1', ['full-auto'])).toEqual([
        { mode: 'full', trigger: 'ready', limit_per_chat: 3, messages_synced: '6' },
      ]);
    } finally {
      await t.close();
    }
  });

  it('off: becoming ready starts nothing; the only run is the one asked for', async () => {
    const t = await TestApp.start({ account: account(2, 8), env: { SYNC_ON_READY: 'off' } });
    try {
      await t.readySession('no-auto');
      const answer = await t.request<{ syncId: string }>('POST', '/whatsapp-web/session/no-auto/sync-chats');
      expect(await t.db.query('SELECT id, mode, trigger FROM sync_runs WHERE session_id = $1', ['no-auto'])).toEqual([{ id: answer.body.syncId, mode: 'full', trigger: 'api' }]);
    } finally {
      await t.close();
    }
  });
});

describe('the service process restarted (production default: SYNC_ON_READY unset)', () => {
  let db: TestDatabase;
  let service: ServiceProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wa-catch-up-'));
  const accountFile = join(dir, 'account.json');

  beforeAll(async () => {
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    service?.kill();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: db.url,
    WA_PROVIDER: 'simulated',
    SIMULATED_ACCOUNT: accountFile,
    DB_POOL_SIZE: '3',
    // Empty: unset, so production's default (incremental) applies.
    SYNC_ON_READY: '',
    ...extra,
  });
  const call = (base: string, method: string, path: string) =>
    fetch(`${base}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
  const runs = (sessionId: string) =>
    db.query<{ status: string; mode: string; trigger: string; n_chats: number; chats_skipped: number; messages_inserted: string }>(
      'SELECT status, mode, trigger, n_chats, chats_skipped, messages_inserted FROM sync_runs WHERE session_id = $1 ORDER BY started_at',
      [sessionId],
    );
  const storedIds = async (sessionId: string) =>
    (await db.query<{ wa_id: string }>('SELECT wa_id FROM messages WHERE session_id = $1 ORDER BY wa_id', [sessionId])).map((r) => r.wa_id);
  const runsDone = (sessionId: string, count: number) =>
    waitFor(async () => (await runs(sessionId)).filter((r) => r.status === 'done').length === count, `${count} finished run(s) of ${sessionId}`, 30_000);

  it('messages that arrived while it was down are stored at its next start, with no API call', async () => {
    const v1 = account(4, 20);
    writeFileSync(accountFile, JSON.stringify(v1));
    const first = await ServiceProcess.start(env());
    service = first;
    expect((await call(first.baseUrl, 'POST', '/whatsapp-web/session/phone/start')).status).toBe(201);
    await runsDone('phone', 1);
    expect(await storedIds('phone')).toEqual(allIds(v1));
    expect((await first.stop('SIGTERM')).code).toBe(0);

    const v2 = account(4, 20);
    v2.chats[1] = grown(v2.chats[1], 3);
    v2.chats.push(chat('new@c.us', 5, { timestamp: BASE + 600, messages: messagesFor('new@c.us', 5, BASE + 600) }));
    writeFileSync(accountFile, JSON.stringify(v2));
    const second = await ServiceProcess.start(env());
    service = second;
    // The session is restored by the start itself; nobody calls the API.
    await runsDone('phone', 2);

    expect(await storedIds('phone')).toEqual(allIds(v2));
    expect(await runs('phone')).toEqual([
      { status: 'done', mode: 'incremental', trigger: 'ready', n_chats: 4, chats_skipped: 0, messages_inserted: '80' },
      { status: 'done', mode: 'incremental', trigger: 'ready', n_chats: 2, chats_skipped: 3, messages_inserted: '8' },
    ]);
    expect((await call(second.baseUrl, 'GET', '/whatsapp-web/session/phone/sync-chats/latest')).body).toMatchObject({ status: 'done', mode: 'incremental', trigger: 'ready', chatsSkipped: 3 });
    // Logged out, so that the next test's starts do not restore it.
    expect((await call(second.baseUrl, 'DELETE', '/whatsapp-web/session/phone')).status).toBe(200);
    expect((await second.stop('SIGTERM')).code).toBe(0);
    service = undefined;
  }, 90_000);

  it('a crash (SIGKILL) in the middle of a catch-up: the next one completes it, nothing duplicated', async () => {
    const CHATS = 30;
    const v1 = account(CHATS, 5);
    writeFileSync(accountFile, JSON.stringify(v1));
    const first = await ServiceProcess.start(env());
    service = first;
    expect((await call(first.baseUrl, 'POST', '/whatsapp-web/session/crash/start')).status).toBe(201);
    await runsDone('crash', 1);
    expect((await first.stop('SIGTERM')).code).toBe(0);

    // Every chat got two messages while the service was down; a slow phone, one chat at a time.
    const v2 = { ...v1, chats: v1.chats.map((c) => grown(c, 2)) };
    writeFileSync(accountFile, JSON.stringify({ ...v2, fetchLatencyMs: 100 }));
    const second = await ServiceProcess.start(env({ SYNC_FETCH_CONCURRENCY: '1' }));
    service = second;
    await waitFor(async () => {
      const { body } = await call(second.baseUrl, 'GET', '/whatsapp-web/session/crash/sync-chats/latest');
      return body.status === 'running' && (body.currentChat as number) >= 3;
    }, 'the catch-up to be going', 30_000);
    second.kill();
    await second.exited;
    const afterCrash = (await storedIds('crash')).length;
    expect(afterCrash).toBeGreaterThanOrEqual(CHATS * 5);
    expect(afterCrash).toBeLessThan(CHATS * 7);

    writeFileSync(accountFile, JSON.stringify(v2));
    const third = await ServiceProcess.start(env());
    service = third;
    await runsDone('crash', 2);

    expect(await storedIds('crash')).toEqual(allIds(v2));
    const [, crashed, completed] = await runs('crash');
    expect(crashed).toMatchObject({ status: 'interrupted', trigger: 'ready' });
    expect(completed).toMatchObject({ status: 'done', mode: 'incremental', trigger: 'ready', messages_inserted: String(CHATS * 7 - afterCrash) });
    expect(completed.n_chats + completed.chats_skipped).toBe(CHATS);
    expect((await third.stop('SIGTERM')).code).toBe(0);
    service = undefined;
  }, 90_000);
});
