import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { chat } from './support/accounts';
import { ServiceProcess } from './support/service-process';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * A queue's run (WebhookQueueRun) in the service: it takes the rows committed to its queue without
 * the worker's look, and a SIGKILL while deliveries follow one another with their records beside
 * the POSTs loses nothing and keeps the order.
 */

jest.setTimeout(90_000);

const BASE = 1_764_150_000;

function liveMessage(n: number, chatId = 'chat1@c.us'): WaMessage {
  const spec = { id: `false_${chatId}_3EB0RUN${String(n).padStart(4, '0')}`, fromMe: false, author: null, body: `live ${n}`, type: 'chat', timestamp: BASE + 100 + n, hasMedia: false, ack: 0 };
  return { ...spec, chatId, raw: { ...spec } };
}

const messageIdOf = (payload: Record<string, unknown>) => (payload.message as { id?: string } | undefined)?.id;

describe('a queue\'s run takes the rows committed to its queue', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await TestApp.start({ account: accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3)] }), env: { RATE_LIMIT_MAX: '0' } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('20 messages, each received once the one before was delivered: all delivered in order, with the worker\'s look (claim and next-chance queries) made a handful of times, not once a message', async () => {
    const sessionId = 'run';
    const path = '/run';
    await t.readySession(sessionId);
    await waitFor(async () => (await t.db.query("SELECT 1 FROM sessions WHERE session_id = $1 AND status = 'ready'", [sessionId])).length === 1, 'ready stored');
    const set = await t.request('PUT', `/whatsapp-web/session/${sessionId}/webhook`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url(path), events: ['message'] }) });
    expect(set.status).toBe(200);
    const client = t.whatsapp.clientOf(sessionId)!;
    t.sql.startRecording();
    for (let n = 1; n <= 20; n++) {
      client.receiveMessage(liveMessage(n));
      await waitFor(() => receiver.acknowledged(path).length === n, `message ${n} delivered`);
    }
    const statements = t.sql.stopRecording();
    const looks = statements.filter((q) => q.includes('WITH RECURSIVE queues AS')).length;
    expect(receiver.acknowledged(path).map((r) => messageIdOf(r.body.payload))).toEqual(Array.from({ length: 20 }, (_, k) => liveMessage(k + 1).id));
    // The first message's look, and its next-chance query; each later message is leased by the run.
    expect({ looks: looks <= 4 ? 'a handful' : looks }).toEqual({ looks: 'a handful' });
  });
});

describe('SIGKILL while a queue\'s deliveries follow one another at full speed', () => {
  let db: TestDatabase;
  let receiver: WebhookReceiver;
  let service: ServiceProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'wa-webhook-run-kill-'));
  const accountFile = join(dir, 'account.json');
  const LIVE = 400;

  beforeAll(async () => {
    db = await TestDatabase.create();
    receiver = await WebhookReceiver.start();
    const live = Array.from({ length: LIVE }, (_, n) => {
      const m = liveMessage(n + 1);
      return { afterMs: n, type: 'message', chatId: m.chatId, message: { id: m.id, fromMe: m.fromMe, author: m.author, body: m.body, type: m.type, timestamp: m.timestamp, hasMedia: m.hasMedia, ack: m.ack } };
    });
    writeFileSync(accountFile, JSON.stringify({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3)], live }));
  });
  afterAll(async () => {
    service?.kill();
    await receiver?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after the restart every delivery is delivered, each recorded once as answered; first arrivals in order; an id arrives again only if the first process sent it', async () => {
    const path = '/run-kill';
    const env = { WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, SYNC_ON_READY: 'off', DATABASE_URL: db.url, WEBHOOK_URL: receiver.url(path), WEBHOOK_EVENTS: 'message', WEBHOOK_TIMEOUT_MS: '1000' };
    const first = await ServiceProcess.start(env);
    service = first;
    expect((await fetch(`${first.baseUrl}/whatsapp-web/session/phone/start`, { method: 'POST' })).status).toBe(201);
    // Killed in the middle of the flow: deliveries answered, records under way, rows leased ahead.
    await waitFor(() => receiver.acknowledged(path).length >= 100, '100 deliveries acknowledged', 30_000);
    expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
    service = undefined;
    const sentByFirst = new Set(receiver.acknowledged(path).map((r) => r.body.id));

    const second = await ServiceProcess.start({ ...env, RESTORE_SESSIONS: 'false' });
    service = second;
    const rows = () => db.query<{ id: string; status: string }>("SELECT id, status FROM webhook_deliveries WHERE event = 'message' ORDER BY seq");
    await waitFor(async () => (await rows()).every((r) => r.status === 'delivered'), 'every delivery delivered after the restart', 30_000);
    const written = await rows();
    expect(written.length).toBeGreaterThanOrEqual(100);
    const acknowledged = receiver.acknowledged(path).map((r) => r.body.id);
    const firsts = acknowledged.filter((id, index) => acknowledged.indexOf(id) === index);
    const again = acknowledged.filter((id, index) => acknowledged.indexOf(id) !== index);
    const [{ n: notOnce }] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_deliveries d WHERE d.event = 'message' AND (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id AND a.status_code = 200) <> 1",
    );
    expect({ firstsInOrder: firsts, notRecordedOnce: notOnce, againNotSentByFirst: again.filter((id) => !sentByFirst.has(id)) }).toEqual({
      firstsInOrder: written.map((r) => r.id),
      notRecordedOnce: 0,
      againNotSentByFirst: [],
    });
    expect((await second.stop('SIGTERM')).code).toBe(0);
    service = undefined;
  });
});
