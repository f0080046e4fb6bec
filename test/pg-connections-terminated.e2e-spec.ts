import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chat } from './support/accounts';
import { ServiceProcess, Exit } from './support/service-process';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Issue #11, item 1: PostgreSQL terminating the service's connections over and over while syncs run.
 * A connection the pool was opening, or had just handed out, got the server's FATAL 57P01 before any
 * 'error' listener was on it, and node died of the unhandled 'error' event. The service runs as its
 * own process here, as it did when it crashed: a crash is a dead process, not a failed assertion.
 */

const CHATS = 40;
const PER_CHAT = 5;
const ROUNDS = 15;
const KILLS_PER_ROUND = 5;
const KILL_GAP_MS = 30;
const INTO_SYNC_MS = 250;

describe('PostgreSQL terminates the service\'s connections again and again during syncs', () => {
  let db: TestDatabase;
  let service: (ServiceProcess & { baseUrl: string }) | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wa-pgterm-'));
  const chats = Array.from({ length: CHATS }, (_, n) => chat(`${2000 + n}@c.us`, PER_CHAT));

  beforeAll(async () => {
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    service?.kill();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every backend of the test database but the test's own one (the service's pool, whatever state each is in). */
  async function terminateAll(): Promise<number> {
    const [row] = await db.query<{ n: number }>(
      'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return row.n;
  }

  it('the process stays up, /health recovers, and the next sync stores exactly the account', async () => {
    const accountFile = join(dir, 'account.json');
    // 40 chats, 100 ms a fetch, 8 at a time: a sync takes about half a second, so every burst lands inside one.
    writeFileSync(accountFile, JSON.stringify({ scanAfterMs: 0, fetchLatencyMs: 100, chats }));
    service = await ServiceProcess.start({ DATABASE_URL: db.url, WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, DB_POOL_SIZE: '10' });
    const base = service.baseUrl;
    let exit: Exit | undefined;
    void service.exited.then((e) => (exit = e));
    const call = (method: string, path: string) =>
      fetch(`${base}${path}`, { method }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    /** What the test sees when the process is gone: the exit and the end of its log, not a bare ECONNREFUSED. */
    const alive = () => {
      if (exit) throw new Error(`the service died (${JSON.stringify(exit)}):\n${service!.log.slice(-4000)}`);
    };

    expect((await call('POST', '/whatsapp-web/session/pgterm/start')).status).toBe(201);
    await waitFor(async () => (await call('GET', '/whatsapp-web/session/pgterm')).body.status === 'ready', 'pgterm ready');

    const outcomes: number[] = [];
    let terminated = 0;
    for (let round = 0; round < ROUNDS && !exit; round++) {
      const started = Date.now();
      const answer = call('POST', '/whatsapp-web/session/pgterm/sync-chats').catch(() => ({ status: 0, body: {} }));
      // The attack itself: 250 ms into the run, five terminations 30 ms apart.
      await delay(INTO_SYNC_MS - (Date.now() - started));
      for (let kill = 0; kill < KILLS_PER_ROUND && !exit; kill++) {
        terminated += await terminateAll();
        await delay(KILL_GAP_MS);
      }
      outcomes.push((await answer).status);
    }
    alive();
    // The bursts did hit the service's connections, and each run either completed or ended failed (503).
    expect(terminated).toBeGreaterThan(ROUNDS);
    expect(outcomes).toHaveLength(ROUNDS);
    expect(outcomes.filter((status) => status !== 200 && status !== 503)).toEqual([]);
    // Handled, and said so: each dropped connection is logged.
    expect(service.log).toContain('a pooled database connection failed: terminating connection due to administrator command (57P01)');

    await waitFor(async () => (await call('GET', '/health')).status === 200, '/health to recover');
    expect((await call('GET', '/health')).body).toEqual({ status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) });

    const final = await call('POST', '/whatsapp-web/session/pgterm/sync-chats');
    alive();
    expect(final).toMatchObject({
      status: 200,
      body: { success: true, chatsProcessed: CHATS, chatsFailed: 0, messagesSynced: CHATS * PER_CHAT, syncId: expect.any(String) },
    });
    // Exactly the account: every chat and message, none twice, nothing else.
    const storedChats = await db.query<{ wa_id: string }>(`SELECT wa_id FROM chats WHERE session_id = 'pgterm'`);
    expect(storedChats.map((r) => r.wa_id).sort()).toEqual(chats.map((c) => c.id).sort());
    const storedMessages = await db.query<{ key: string }>(`SELECT chat_id || ' ' || wa_id AS key FROM messages WHERE session_id = 'pgterm'`);
    expect(storedMessages.map((r) => r.key).sort()).toEqual(chats.flatMap((c) => c.messages.map((m) => `${c.id} ${m.id}`)).sort());
    expect(await db.counts('pgterm')).toMatchObject({ sessions: 1, chats: CHATS, messages: CHATS * PER_CHAT });
    const [run] = await db.query<{ status: string; messages_synced: number }>(`SELECT status, messages_synced::int AS messages_synced FROM sync_runs WHERE id = $1`, [final.body.syncId]);
    expect(run).toEqual({ status: 'done', messages_synced: CHATS * PER_CHAT });

    const stopped = await service.stop('SIGTERM');
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 0, signal: null });
    service = undefined;
  }, 90_000);
});
