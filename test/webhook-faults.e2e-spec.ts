import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { chat, messagesFor } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Webhooks under faults: the database connection killed between a message and its outbox row, the
 * service killed (SIGKILL) with deliveries pending, the database's connections cut again and again
 * while deliveries are under way. Nothing is lost; nothing acknowledged is sent again, unless its
 * acknowledgement could not be recorded.
 */

const BASE = 1_764_150_000;
const HOLD_BODY = 'hold this one';

function liveMessage(n: number, body = `live ${n}`, chatId = 'chat1@c.us'): WaMessage {
  const spec = { id: `false_${chatId}_3EB0LIVE${n}`, fromMe: false, author: null, body, type: 'chat', timestamp: BASE + 100 + n, hasMedia: false, ack: 0 };
  return { ...spec, chatId, raw: { ...spec } };
}

/** Terminates every backend of the database that is not the test's own; answers how many. */
async function terminateAll(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return row.n;
}

describe('a message and its outbox row commit together or not at all', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await TestApp.start({
      account: accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3)] }),
      env: { WEBHOOK_URL: receiver.url('/atomic'), WEBHOOK_EVENTS: 'message', WEBHOOK_RETRY_BASE_MS: '40' },
    });
    // The outbox insert of a message whose body is HOLD_BODY waits (inside the message's
    // transaction) until its connection is killed.
    // The hold is on while this table has a row (switched without the table lock a trigger change needs).
    await t.db.query('CREATE TABLE hold_on (on_ boolean)');
    await t.db.query('INSERT INTO hold_on VALUES (true)');
    await t.db.query(`
      CREATE FUNCTION hold_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.payload -> 'message' ->> 'body' = '${HOLD_BODY}' AND EXISTS (SELECT 1 FROM hold_on) THEN PERFORM pg_sleep(30); END IF;
        RETURN NEW;
      END $$`);
    await t.db.query('CREATE TRIGGER hold_outbox BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION hold_outbox()');
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const killed = new Set<number>();
  /** Kills the backend sleeping in the trigger, once one (not killed before) sleeps there. */
  async function killHeldWrite(): Promise<void> {
    let pid: number | undefined;
    await waitFor(async () => {
      const rows = await t.db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'");
      pid = rows.find((r) => !killed.has(r.pid))?.pid;
      return pid !== undefined;
    }, 'the outbox insert held', 30_000);
    killed.add(pid!);
    await t.db.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  const messageRows = (ids: string[]) => t.db.query<{ wa_id: string }>('SELECT wa_id FROM messages WHERE wa_id = ANY($1) ORDER BY wa_id', [ids]);
  const outboxRows = () => t.db.query<{ body: string; source: string }>("SELECT payload -> 'message' ->> 'body' AS body, payload ->> 'source' AS source FROM webhook_deliveries ORDER BY seq");

  it('a live message: its connection killed before the outbox row is written, neither is stored; its write is tried again and stores both, once', async () => {
    await t.readySession('live');
    const client = t.whatsapp.clientOf('live')!;
    const held = liveMessage(1, HOLD_BODY);
    client.receiveMessage(held);
    client.receiveMessage(liveMessage(2));
    await killHeldWrite();
    // Its second try is held in the same place: nothing of the first one was committed.
    await waitFor(async () => (await t.db.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'")).length > 0, 'the write tried again');
    expect(await messageRows([held.id, liveMessage(2).id])).toEqual([]);
    expect(await outboxRows()).toEqual([]);
    // The third try goes through.
    await t.db.query('DELETE FROM hold_on');
    await killHeldWrite();
    const got = await receiver.waitForAcknowledged('/atomic', 2);
    expect(await messageRows([held.id, liveMessage(2).id])).toEqual([{ wa_id: held.id }, { wa_id: liveMessage(2).id }].sort((a, b) => a.wa_id.localeCompare(b.wa_id)));
    expect(await outboxRows()).toEqual([
      { body: HOLD_BODY, source: 'live' },
      { body: 'live 2', source: 'live' },
    ]);
    expect(got.map((r) => (r.body.payload.message as { body: string }).body)).toEqual([HOLD_BODY, 'live 2']);
    await t.db.query('INSERT INTO hold_on VALUES (true)');
  });

  it('a catch-up: the chat\'s write killed before its outbox rows, the run fails with neither stored; the next run stores and sends them once', async () => {
    await t.readySession('catch-up');
    expect((await t.request('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=incremental')).status).toBe(200);
    const newMessages = messagesFor('chat1@c.us', 2, BASE + 120).map((m, n) => ({ ...m, id: `${m.id}_NEW`, body: n === 0 ? HOLD_BODY : 'after the hold' }));
    t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 5, { timestamp: BASE + 120, messages: [...messagesFor('chat1@c.us', 3), ...newMessages] })] });
    const run = t.request<{ statusCode: number }>('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=incremental');
    await killHeldWrite();
    expect((await run).status).toBe(503);
    expect(await messageRows(newMessages.map((m) => m.id))).toEqual([]);
    expect((await outboxRows()).filter((r) => r.source === 'catch-up')).toEqual([]);

    await t.db.query('DELETE FROM hold_on');
    const again = await t.request<{ messagesInserted: number }>('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=incremental');
    expect({ status: again.status, inserted: again.body.messagesInserted }).toEqual({ status: 200, inserted: 2 });
    expect((await messageRows(newMessages.map((m) => m.id))).length).toBe(2);
    expect((await outboxRows()).filter((r) => r.source === 'catch-up')).toEqual([
      { body: HOLD_BODY, source: 'catch-up' },
      { body: 'after the hold', source: 'catch-up' },
    ]);
    const got = await receiver.waitForAcknowledged('/atomic', 4);
    expect(got.slice(2).map((r) => (r.body.payload.message as { body: string }).body)).toEqual([HOLD_BODY, 'after the hold']);
  });
});

describe('the service process killed (SIGKILL) with deliveries pending, and the database cut off', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let service: ServiceProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wa-webhook-kill-'));
  const accountFile = join(dir, 'account.json');
  const LIVE = 12;

  beforeAll(async () => {
    db = await TestDatabase.create();
    receiver = await WebhookReceiver.start();
    const live = Array.from({ length: LIVE }, (_, n) => {
      const m = liveMessage(n + 1);
      return { afterMs: 0, type: 'message', chatId: m.chatId, message: { id: m.id, fromMe: m.fromMe, author: m.author, body: m.body, type: m.type, timestamp: m.timestamp, hasMedia: m.hasMedia, ack: m.ack } };
    });
    writeFileSync(accountFile, JSON.stringify({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3), chat('chat2@c.us', 2)], live }));
  });
  afterAll(async () => {
    service?.kill();
    await receiver?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const env = {
    WA_PROVIDER: 'simulated',
    SIMULATED_ACCOUNT: accountFile,
    DB_POOL_SIZE: '3',
    SYNC_ON_READY: 'full',
    WEBHOOK_RETRY_BASE_MS: '50',
    WEBHOOK_TIMEOUT_MS: '500',
    WEBHOOK_MAX_ATTEMPTS: '100',
  };
  const rows = () => db.query<{ id: string; session_id: string; status: string; attempts: number; event: string }>('SELECT id, session_id, status, attempts, event FROM webhook_deliveries ORDER BY seq');

  it('every event written before the kill is delivered after the restart, each acknowledged once, in order', async () => {
    receiver.answer = () => 503;
    const first = await ServiceProcess.start({ ...env, DATABASE_URL: db.url, WEBHOOK_URL: receiver.url('/kill') });
    service = first;
    expect((await fetch(`${first.baseUrl}/whatsapp-web/session/phone/start`, { method: 'POST' })).status).toBe(201);
    // Session statuses, the 12 live messages, the ready run's summary: all written, all tried and refused.
    await waitFor(async () => {
      const pending = await rows();
      return pending.filter((r) => r.event === 'message').length === LIVE && pending.some((r) => r.event === 'sync_chats_done') && pending.every((r) => r.status === 'pending') && pending[0].attempts >= 2;
    }, 'deliveries pending and refused', 20_000);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    service = undefined;
    const before = await rows();
    expect(receiver.acknowledged('/kill')).toEqual([]);

    receiver.answer = () => 200;
    const second = await ServiceProcess.start({ ...env, DATABASE_URL: db.url, WEBHOOK_URL: receiver.url('/kill'), RESTORE_SESSIONS: 'false' });
    service = second;
    await waitFor(async () => (await rows()).every((r) => r.status === 'delivered'), 'every delivery delivered', 20_000);
    const acknowledged = receiver.acknowledged('/kill').map((r) => r.body.id);
    // Every row of the first process, acknowledged exactly once, in the order the events happened.
    const afterKill = acknowledged.filter((id) => before.some((r) => r.id === id));
    expect(afterKill).toEqual(before.map((r) => r.id));
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    expect(acknowledged).toEqual((await rows()).map((r) => r.id));
    await second.stop('SIGTERM');
    service = undefined;
  });

  it('the database\'s connections cut again and again while deliveries go out: all delivered, in order', async () => {
    await db.query('TRUNCATE webhook_deliveries CASCADE');
    receiver.answer = () => 503;
    const third = await ServiceProcess.start({ ...env, DATABASE_URL: db.url, WEBHOOK_URL: receiver.url('/cut') });
    service = third;
    expect((await fetch(`${third.baseUrl}/whatsapp-web/session/phone2/start`, { method: 'POST' })).status).toBe(201);
    // A new session: its statuses, live messages and run summary, refused for now.
    await waitFor(async () => {
      const pending = await rows();
      return pending.filter((r) => r.event === 'message').length === LIVE && pending.some((r) => r.event === 'sync_chats_done') && pending[0].attempts >= 1;
    }, 'deliveries pending', 20_000);
    const written = await rows();
    receiver.answer = () => 200;
    let killed = 0;
    for (let round = 0; round < 20 && (await rows().catch(() => [])).some((r) => r.status !== 'delivered'); round++) {
      killed += await terminateAll(db);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(killed).toBeGreaterThan(0);
    await waitFor(async () => (await rows()).every((r) => r.status === 'delivered'), 'every delivery delivered', 30_000);
    // At least once each; the first acknowledgements in the order the events happened. An id is
    // acknowledged again only when the cut left its acknowledgement unrecorded.
    const acknowledged = receiver.acknowledged('/cut').map((r) => r.body.id);
    const firsts = acknowledged.filter((id, index) => acknowledged.indexOf(id) === index);
    // Every row, the ones written during the cuts too (statuses of a session reconnecting), in order
    // per session: each session's deliveries to one URL are one queue (the session restored at boot is another).
    const final = await rows();
    expect(final.length).toBeGreaterThanOrEqual(written.length);
    for (const sessionId of new Set(final.map((r) => r.session_id))) {
      const ofSession = final.filter((r) => r.session_id === sessionId).map((r) => r.id);
      const ids = new Set(ofSession);
      expect({ sessionId, ids: firsts.filter((id) => ids.has(id)) }).toEqual({ sessionId, ids: ofSession });
    }
    expect(firsts.length).toBe(final.length);
    const [{ n: unrecorded }] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_deliveries d WHERE (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.status_code = 200) <> 1",
    );
    expect(unrecorded).toBe(0);
    expect(acknowledged.length - firsts.length).toBeLessThanOrEqual(killed);
    expect((await third.stop('SIGTERM')).code).toBe(0);
    service = undefined;
  });
});
