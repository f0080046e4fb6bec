import { SimulatedTestClientFactory } from './support/client-factories';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { seedAccount } from './support/accounts';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Restarts of the service on one database, with `RESTORE_SESSIONS`. The simulated provider keeps its
 * logins in the factory, which outlives the apps here as a login on disk outlives a process.
 */
const NEVER_SCANNED = 10 * 60_000;
const me = (sessionId: string) => ({ id: `${sessionId.length}0000000000@c.us`, pushName: `Simulated ${sessionId}` });

describe('RESTORE_SESSIONS=false skips the restore of one start only', () => {
  let db: TestDatabase;
  let whatsapp: SimulatedTestClientFactory;
  const apps: TestApp[] = [];

  async function boot(env: Record<string, string> = {}): Promise<TestApp> {
    const app = await TestApp.start({ account: seedAccount(), database: db, env, clientFactory: () => whatsapp });
    apps.push(app);
    return app;
  }

  async function statusesOf(app: TestApp): Promise<Record<string, string>> {
    const { body } = await app.request<Array<{ sessionId: string; status: string }>>('GET', '/whatsapp-web/sessions');
    return Object.fromEntries(body.map((s) => [s.sessionId, s.status]));
  }

  async function rowStatuses(): Promise<Record<string, string>> {
    const rows = await db.query<{ session_id: string; status: string }>('SELECT session_id, status FROM sessions ORDER BY session_id');
    return Object.fromEntries(rows.map((r) => [r.session_id, r.status]));
  }

  beforeAll(async () => {
    db = await TestDatabase.create();
    whatsapp = new SimulatedTestClientFactory(accountFromSpec({ ...seedAccount(), scanAfterMs: NEVER_SCANNED }));
  });
  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await db.drop();
  });

  it('sessions logged in stay stopped in that process, keep their rows, and the next normal start restores them', async () => {
    const first = await boot();
    await first.request('POST', '/whatsapp-web/session/kept/start');
    whatsapp.clientOf('kept')!.scan();
    await first.request('POST', '/whatsapp-web/session/other/start');
    whatsapp.clientOf('other')!.scan();
    await first.request('POST', '/whatsapp-web/session/waiting/start'); // never scanned: qr
    await waitFor(async () => (await rowStatuses()).kept === 'ready' && (await rowStatuses()).other === 'ready', 'both sessions ready');
    await first.close();
    expect(await rowStatuses()).toEqual({ kept: 'ready', other: 'ready', waiting: 'qr' });

    // A start without restore: no client, so no session claims `ready`.
    const second = await boot({ RESTORE_SESSIONS: 'false' });
    expect(await statusesOf(second)).toEqual({ kept: 'stopped', other: 'stopped', waiting: 'stopped' });
    expect((await second.request('GET', '/whatsapp-web/session/kept')).body).toEqual({
      sessionId: 'kept',
      status: 'stopped',
      me: me('kept'),
      error: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      owner: null,
    });
    const sync = await second.request('POST', '/whatsapp-web/session/kept/sync-chats');
    expect({ status: sync.status, body: sync.body }).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: 'Session kept is not ready (status: stopped)' },
    });
    const socket = await second.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId: 'kept' })).toEqual({ ok: true });
    await log.waitFor('session_status');
    expect(log.events).toEqual([{ event: 'session_status', payload: { sessionId: 'kept', status: 'stopped' } }]);
    // Only the session that was not logged in is marked stopped; the others keep their rows.
    expect(await rowStatuses()).toEqual({ kept: 'ready', other: 'ready', waiting: 'stopped' });

    // Started by hand, a kept login needs no QR, as after any stop.
    const started = await second.request<{ status: string }>('POST', '/whatsapp-web/session/other/start');
    expect({ status: started.status, sessionStatus: started.body.status }).toEqual({ status: 201, sessionStatus: 'ready' });
    await second.close();

    const third = await boot();
    await waitFor(async () => (await statusesOf(third)).kept === 'ready', 'kept restored');
    await waitFor(async () => (await statusesOf(third)).other === 'ready', 'other restored');
    expect(await statusesOf(third)).toEqual({ kept: 'ready', other: 'ready', waiting: 'stopped' });
    const again = await third.request<{ success: boolean }>('POST', '/whatsapp-web/session/kept/sync-chats');
    expect({ status: again.status, success: again.body.success }).toEqual({ status: 200, success: true });
    await third.close();
  });

  it('a stop of a session that was not restored is recorded: the next normal start does not restore it', async () => {
    const app = await boot({ RESTORE_SESSIONS: 'false' });
    expect(await rowStatuses()).toMatchObject({ kept: 'ready', other: 'ready' });
    const stopped = await app.request<{ status: string }>('POST', '/whatsapp-web/session/kept/stop');
    expect({ status: stopped.status, sessionStatus: stopped.body.status }).toEqual({ status: 200, sessionStatus: 'stopped' });
    expect(await rowStatuses()).toMatchObject({ kept: 'stopped', other: 'ready' });
    await app.close();

    const next = await boot();
    await waitFor(async () => (await statusesOf(next)).other === 'ready', 'other restored');
    expect(await statusesOf(next)).toMatchObject({ kept: 'stopped', other: 'ready' });
    await next.close();
  });

  it('DELETE of a session that was not restored still logs it out: a later start needs a new scan', async () => {
    const app = await boot({ RESTORE_SESSIONS: 'false' });
    expect((await statusesOf(app)).kept).toBe('stopped');
    const deleted = await app.request('DELETE', '/whatsapp-web/session/kept');
    expect({ status: deleted.status, body: deleted.body }).toEqual({ status: 200, body: { sessionId: 'kept', deleted: true, purged: false } });
    const started = await app.request<{ status: string }>('POST', '/whatsapp-web/session/kept/start');
    expect({ status: started.status, sessionStatus: started.body.status }).toEqual({ status: 201, sessionStatus: 'qr' });
  });
});
