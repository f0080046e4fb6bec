import { createServer } from 'node:net';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { chat, messagesFor } from './support/accounts';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';
import { Received, WebhookReceiver, signatureValid } from './support/webhook-receiver';

/**
 * Webhook deliveries end to end: the real service POSTing to a real HTTP receiver in this process,
 * signed, in order, retried, recorded; catch-up `message` events; the listing and the retry route.
 */

const BASE = 1_764_150_000;
const SECRET = 'whsec_test';
const JSON_HEADERS = { 'content-type': 'application/json' };
const ENV = { WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '300' };

function account() {
  return accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3), chat('chat2@c.us', 2)] });
}

function liveMessage(n: number, chatId = 'chat1@c.us'): WaMessage {
  const spec = { id: `false_${chatId}_3EB0LIVE${n}`, fromMe: false, author: null, body: `live ${n}`, type: 'chat', timestamp: BASE + 100 + n, hasMedia: false, ack: 0 };
  return { ...spec, chatId, raw: { ...spec } };
}

/** A port nothing listens on: a receiver that refuses connections. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('webhook delivery to a real receiver', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await TestApp.start({ account: account(), env: { ...ENV, WEBHOOK_URL: receiver.url('/global'), WEBHOOK_EVENTS: 'sync_chats_done' } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** A ready session whose `ready` is stored (with its outbox rows): a setting made now applies to what follows. */
  async function readyStored(sessionId: string): Promise<void> {
    await t.readySession(sessionId);
    await waitFor(async () => (await t.db.query('SELECT 1 FROM sessions WHERE session_id = $1 AND status = $2', [sessionId, 'ready'])).length === 1, 'ready stored');
  }

  /** A ready session whose own webhook posts to `path` (set after the start: its start events go to the global one). */
  async function sessionPostingTo(sessionId: string, path: string, body: Record<string, unknown> = {}): Promise<void> {
    await readyStored(sessionId);
    const set = await t.request('PUT', `/whatsapp-web/session/${sessionId}/webhook`, { headers: JSON_HEADERS, body: JSON.stringify({ url: receiver.url(path), secret: SECRET, ...body }) });
    expect(set.status).toBe(200);
  }

  const deliveries = (sessionId: string) =>
    t.db.query<{ event: string; status: string; attempts: number; url: string }>('SELECT event, status, attempts, url FROM webhook_deliveries WHERE session_id = $1 ORDER BY seq', [sessionId]);
  const attemptsOf = (id: string) =>
    t.db.query<{ status_code: number | null; error: string | null; attempted_at: Date }>('SELECT status_code, error, attempted_at FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [id]);

  it('posts each event signed, with the contract body and headers, in the order the events happened', async () => {
    await sessionPostingTo('signed', '/signed');
    const sync = await t.request<{ syncId: string }>('POST', '/whatsapp-web/session/signed/sync-chats');
    expect(sync.status).toBe(200);
    const client = t.whatsapp.clientOf('signed')!;
    for (let n = 1; n <= 5; n++) client.receiveMessage(liveMessage(n));
    client.report((l) => l.onMessageEdit({ messageId: liveMessage(1).id, chatId: 'chat1@c.us', body: 'live 1, edited', editedAt: BASE + 200 }));
    const got = await receiver.waitForAcknowledged('/signed', 7);
    expect(got.map((r) => [r.body.event, (r.body.payload.message as { body?: string } | undefined)?.body ?? null])).toEqual([
      ['sync_chats_done', null],
      ['message', 'live 1'],
      ['message', 'live 2'],
      ['message', 'live 3'],
      ['message', 'live 4'],
      ['message', 'live 5'],
      ['message_update', 'live 1, edited'],
    ]);
    for (const r of got) {
      expect(signatureValid(r, SECRET)).toBe(true);
      expect(signatureValid(r, 'another secret')).toBe(false);
      expect(r.headers['x-webhook-id']).toBe(r.body.id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(Object.keys(r.body)).toEqual(['id', 'event', 'sessionId', 'createdAt', 'payload']);
      expect(r.body.sessionId).toBe('signed');
    }
    expect(got[0].body.payload).toMatchObject({ sessionId: 'signed', syncId: sync.body.syncId, mode: 'full', messagesSynced: 5, messagesInserted: 5 });
    expect(got[1].body.payload).toEqual({ sessionId: 'signed', source: 'live', message: expect.objectContaining({ id: liveMessage(1).id, chatId: 'chat1@c.us', body: 'live 1' }) });
    expect(got[6].body.payload).toEqual({ sessionId: 'signed', message: expect.objectContaining({ id: liveMessage(1).id, body: 'live 1, edited', editedAt: BASE + 200 }) });
    // Every delivery recorded with its one attempt; a repeated live message is not sent again.
    client.receiveMessage(liveMessage(1));
    await waitFor(async () => (await deliveries('signed')).every((d) => d.status === 'delivered'), 'all delivered');
    expect((await deliveries('signed')).map((d) => [d.event, d.status, d.attempts])).toEqual([
      ['sync_chats_done', 'delivered', 1],
      ...Array.from({ length: 5 }, () => ['message', 'delivered', 1]),
      ['message_update', 'delivered', 1],
    ]);
    expect(await attemptsOf(got[0].body.id)).toEqual([{ status_code: 200, error: null, attempted_at: expect.any(Date) }]);
  });

  it('a session\'s own webhook replaces the global one for that session only; events filter what is sent', async () => {
    await readyStored('global-only');
    await sessionPostingTo('own', '/own', { events: ['message'] });
    expect((await t.request('POST', '/whatsapp-web/session/global-only/sync-chats')).status).toBe(200);
    expect((await t.request('POST', '/whatsapp-web/session/own/sync-chats')).status).toBe(200);
    t.whatsapp.clientOf('own')!.receiveMessage(liveMessage(1));
    t.whatsapp.clientOf('global-only')!.receiveMessage(liveMessage(1));
    const own = await receiver.waitForAcknowledged('/own', 1);
    await waitFor(() => receiver.acknowledged('/global').some((r) => r.body.sessionId === 'global-only'), 'the global delivery');
    expect(own.map((r) => [r.body.sessionId, r.body.event])).toEqual([['own', 'message']]);
    // The global webhook carries only sync_chats_done, and nothing of the session with its own.
    expect(receiver.at('/global').map((r) => r.body.event)).toEqual(receiver.at('/global').map(() => 'sync_chats_done'));
    expect(receiver.at('/global').filter((r) => r.body.sessionId === 'own')).toEqual([]);
    expect((await deliveries('own')).map((d) => d.event)).toEqual(['message']);
    expect((await deliveries('global-only')).map((d) => [d.event, d.url])).toEqual([['sync_chats_done', receiver.url('/global')]]);
  });

  it('retries with doubling back-off until a 2xx answer, recording every attempt', async () => {
    await sessionPostingTo('retried', '/retried');
    let calls = 0;
    receiver.answer = (r) => (r.path === '/retried' && ++calls <= 2 ? 500 : 200);
    t.whatsapp.clientOf('retried')!.receiveMessage(liveMessage(1));
    const [got] = await receiver.waitForAcknowledged('/retried', 1);
    receiver.answer = () => 200;
    expect(receiver.at('/retried').map((r) => [r.body.id, r.answered])).toEqual([
      [got.body.id, 500],
      [got.body.id, 500],
      [got.body.id, 200],
    ]);
    await waitFor(async () => (await deliveries('retried'))[0].status === 'delivered', 'recorded as delivered');
    const attempts = await attemptsOf(got.body.id);
    expect(attempts.map((a) => [a.status_code, a.error])).toEqual([
      [500, 'answered 500'],
      [500, 'answered 500'],
      [200, null],
    ]);
    // 40 ms after the first failure, 80 ms after the second, at least.
    expect(attempts[1].attempted_at.getTime() - attempts[0].attempted_at.getTime()).toBeGreaterThanOrEqual(40);
    expect(attempts[2].attempted_at.getTime() - attempts[1].attempted_at.getTime()).toBeGreaterThanOrEqual(80);
    const [row] = await t.db.query('SELECT status, attempts, last_status_code, last_error FROM webhook_deliveries WHERE id = $1', [got.body.id]);
    expect(row).toEqual({ status: 'delivered', attempts: 3, last_status_code: 200, last_error: null });
  });

  it.each<[string, (r: Received) => 'hang' | 'cut' | number, string]>([
    ['hanging past the timeout', () => 'hang', 'no answer within 300 ms'],
    ['answering 3xx (not followed)', () => 302, `redirect to http://127.0.0.1:PORT/redirected not followed`],
    ['closing mid-answer', () => 'cut', 'the connection closed before the answer ended'],
  ])('a receiver %s: retried, delivered once acknowledged', async (what, failure, error) => {
    const sessionId = `faulty-${what.split(' ')[0]}`;
    const path = `/${sessionId}`;
    await sessionPostingTo(sessionId, path);
    let calls = 0;
    receiver.answer = (r) => (r.path === path && ++calls === 1 ? failure(r) : r.path === path ? { status: 200, afterMs: 100 } : 200);
    t.whatsapp.clientOf(sessionId)!.receiveMessage(liveMessage(1));
    t.whatsapp.clientOf(sessionId)!.receiveMessage(liveMessage(2));
    await receiver.waitForAcknowledged(path, 2);
    await waitFor(async () => (await deliveries(sessionId)).every((d) => d.status === 'delivered'), 'both delivered');
    receiver.answer = () => 200;
    const ids = receiver.at(path).map((r) => r.body.id);
    // The first was attempted twice (the failure, then the slow 200), the second once, after it.
    expect(ids).toEqual([ids[0], ids[0], ids[2]]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(receiver.at('/redirected')).toEqual([]);
    const attempts = await attemptsOf(ids[0]);
    expect(attempts.map((a) => [a.status_code, a.error])).toEqual([
      [what.startsWith('answering') ? 302 : what.startsWith('closing') ? 200 : null, error.replace('PORT', String(receiver.port))],
      [200, null],
    ]);
    expect((await deliveries(sessionId)).map((d) => [d.status, d.attempts])).toEqual([
      ['delivered', 2],
      ['delivered', 1],
    ]);
  });

  it('a refused connection: retried until failed, listed with its error; only a failed one can be retried', async () => {
    await readyStored('refused');
    const port = await closedPort();
    expect((await t.request('PUT', '/whatsapp-web/session/refused/webhook', { headers: JSON_HEADERS, body: JSON.stringify({ url: `http://127.0.0.1:${port}/in` }) })).status).toBe(200);
    t.whatsapp.clientOf('refused')!.receiveMessage(liveMessage(1));
    await waitFor(async () => (await deliveries('refused'))[0]?.status === 'failed', 'failed after 3 attempts');
    const [failed] = await t.db.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE session_id = $1', ['refused']);
    const refusal = `connect ECONNREFUSED 127.0.0.1:${port}`;
    expect((await attemptsOf(failed.id)).map((a) => [a.status_code, a.error])).toEqual([
      [null, refusal],
      [null, refusal],
      [null, refusal],
    ]);
    const listed = await t.request<{ deliveries: Array<Record<string, unknown>> }>('GET', '/whatsapp-web/webhooks/deliveries?status=failed&sessionId=refused');
    expect(listed.status).toBe(200);
    expect(listed.body.deliveries).toEqual([
      expect.objectContaining({ id: failed.id, sessionId: 'refused', event: 'message', status: 'failed', attempts: 3, lastStatusCode: null, lastError: refusal, nextAttemptAt: null, deliveredAt: null }),
    ]);
    expect(Object.keys(listed.body.deliveries[0])).not.toContain('secret');

    // Retried, it goes to the URL it was written for (still refusing): attempts counted afresh, failed again.
    const retried = await t.request<Record<string, unknown>>('POST', `/whatsapp-web/webhooks/deliveries/${failed.id}/retry`);
    expect({ status: retried.status, body: retried.body }).toEqual({ status: 200, body: expect.objectContaining({ id: failed.id, status: 'pending', attempts: 0 }) });
    await waitFor(async () => (await attemptsOf(failed.id)).length === 6 && (await deliveries('refused'))[0].status === 'failed', 'three more attempts, failed again');
    const again = await t.request('POST', `/whatsapp-web/webhooks/deliveries/${failed.id}/retry`);
    expect(again.status).toBe(200);
    const [delivered] = await t.db.query<{ id: string }>("SELECT id FROM webhook_deliveries WHERE session_id = 'signed' LIMIT 1");
    const notFailed = await t.request('POST', `/whatsapp-web/webhooks/deliveries/${delivered.id}/retry`);
    expect({ status: notFailed.status, body: notFailed.body }).toEqual({
      status: 409,
      body: { statusCode: 409, error: 'Conflict', message: `Webhook delivery ${delivered.id} is delivered: only a failed one can be retried` },
    });
    const unknown = await t.request('POST', '/whatsapp-web/webhooks/deliveries/00000000-0000-4000-8000-000000000000/retry');
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: 404,
      body: { statusCode: 404, error: 'Not Found', message: 'Webhook delivery 00000000-0000-4000-8000-000000000000 not found' },
    });
    expect((await t.request('POST', '/whatsapp-web/webhooks/deliveries/not-a-uuid/retry')).status).toBe(400);
    await waitFor(async () => (await deliveries('refused'))[0].status === 'failed', 'failed a third time');
  });

  it('a failed head leaves its queue: the events behind it are delivered; retried once the receiver accepts it, it is delivered', async () => {
    await sessionPostingTo('head', '/head');
    const first = liveMessage(1);
    const rejects = (r: Received) => (r.body.payload.message as { id?: string } | undefined)?.id === first.id;
    receiver.answer = (r) => (r.path === '/head' && rejects(r) ? 500 : 200);
    const client = t.whatsapp.clientOf('head')!;
    client.receiveMessage(first);
    client.receiveMessage(liveMessage(2));
    client.receiveMessage(liveMessage(3));
    const behind = await receiver.waitForAcknowledged('/head', 2);
    expect(behind.map((r) => (r.body.payload.message as { body: string }).body)).toEqual(['live 2', 'live 3']);
    // The two behind it left only after the head had failed.
    expect(receiver.at('/head').map((r) => [(r.body.payload.message as { body: string }).body, r.answered])).toEqual([
      ['live 1', 500],
      ['live 1', 500],
      ['live 1', 500],
      ['live 2', 200],
      ['live 3', 200],
    ]);
    const [failed] = await t.db.query<{ id: string; status: string }>("SELECT id, status FROM webhook_deliveries WHERE session_id = 'head' ORDER BY seq LIMIT 1");
    expect(failed.status).toBe('failed');
    receiver.answer = () => 200;
    expect((await t.request('POST', `/whatsapp-web/webhooks/deliveries/${failed.id}/retry`)).status).toBe(200);
    const all = await receiver.waitForAcknowledged('/head', 3);
    expect(all[2].body.id).toBe(failed.id);
    await waitFor(async () => (await deliveries('head')).every((d) => d.status === 'delivered'), 'all delivered');
    expect((await attemptsOf(failed.id)).map((a) => a.status_code)).toEqual([500, 500, 500, 200]);
  });

  it('an incremental run sends each message that arrived while away (source "catch-up"), oldest first; a first import and a full run send none one by one', async () => {
    await sessionPostingTo('catch-up', '/catch-up');
    // chat1 and chat2 are imported for the first time: no message events.
    expect((await t.request('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=incremental')).status).toBe(200);
    // Meanwhile, on the phone: chat1 got 3 messages, chat3 is new with 2.
    const grown = accountFromSpec({
      scanAfterMs: 0,
      fetchLatencyMs: 0,
      chats: [chat('chat1@c.us', 3, { timestamp: BASE + 180, messages: [...messagesFor('chat1@c.us', 3), ...messagesFor('chat1@c.us', 6, BASE + 180).slice(3).map((m) => ({ ...m, id: `${m.id}_NEW` }))] }), chat('chat2@c.us', 2), chat('chat3@c.us', 2, { timestamp: BASE + 300 })],
    });
    t.whatsapp.account = grown;
    const run = await t.request<{ messagesInserted: number }>('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=incremental');
    expect(run.status).toBe(200);
    expect(run.body.messagesInserted).toBe(5);
    const got = await receiver.waitForAcknowledged('/catch-up', 5);
    const newIds = messagesFor('chat1@c.us', 6, BASE + 180).slice(3).map((m) => `${m.id}_NEW`);
    expect(got.map((r) => [r.body.event, (r.body.payload as { source?: string }).source ?? null, (r.body.payload.message as { id?: string } | undefined)?.id ?? null])).toEqual([
      ['sync_chats_done', null, null],
      ...newIds.map((id) => ['message', 'catch-up', id]),
      ['sync_chats_done', null, null],
    ]);
    expect(got[1].body.payload.message).toEqual(expect.objectContaining({ chatId: 'chat1@c.us', editedAt: null, revoked: false, reactions: [] }));
    // A full run of the same state sends its summary only.
    t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 2, { timestamp: BASE + 400, messages: messagesFor('chat1@c.us', 2, BASE + 400).map((m) => ({ ...m, id: `${m.id}_FULL` })) })] });
    expect((await t.request('POST', '/whatsapp-web/session/catch-up/sync-chats?mode=full')).status).toBe(200);
    await receiver.waitForAcknowledged('/catch-up', 6);
    expect(receiver.at('/catch-up').slice(5).map((r) => r.body.event)).toEqual(['sync_chats_done']);
    t.whatsapp.account = account();
  });

  it('a message both received live and found by a catch-up is sent once, as live', async () => {
    t.whatsapp.account = account();
    await sessionPostingTo('both', '/both');
    expect((await t.request('POST', '/whatsapp-web/session/both/sync-chats?mode=incremental')).status).toBe(200);
    const seenLive = liveMessage(7);
    t.whatsapp.clientOf('both')!.receiveMessage(seenLive);
    await receiver.waitForAcknowledged('/both', 2);
    // The phone's history now holds it and one more that never came live.
    const { chatId: _chatId, raw: _raw, ...seenSpec } = seenLive;
    const missed = { ...seenSpec, id: 'false_chat1@c.us_3EB0MISSED', body: 'missed', timestamp: seenLive.timestamp + 1 };
    t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 5, { timestamp: missed.timestamp, messages: [...messagesFor('chat1@c.us', 3), seenSpec, missed] }), chat('chat2@c.us', 2)] });
    const run = await t.request<{ messagesInserted: number }>('POST', '/whatsapp-web/session/both/sync-chats?mode=incremental');
    expect(run.body.messagesInserted).toBe(1);
    const got = await receiver.waitForAcknowledged('/both', 4);
    expect(got.map((r) => [r.body.event, (r.body.payload as { source?: string }).source ?? null, (r.body.payload.message as { id?: string } | undefined)?.id ?? null])).toEqual([
      ['sync_chats_done', null, null],
      ['message', 'live', seenLive.id],
      ['message', 'catch-up', missed.id],
      ['sync_chats_done', null, null],
    ]);
    t.whatsapp.account = account();
  });

  it('lists deliveries newest first, paged; a bad status or cursor is a 400', async () => {
    const first = await t.request<{ deliveries: Array<{ id: string; sessionId: string }>; nextCursor: string | null }>('GET', '/whatsapp-web/webhooks/deliveries?sessionId=signed&limit=4');
    expect(first.status).toBe(200);
    expect(first.body.deliveries.map((d) => d.sessionId)).toEqual(['signed', 'signed', 'signed', 'signed']);
    const second = await t.request<{ deliveries: Array<{ id: string }>; nextCursor: string | null }>('GET', `/whatsapp-web/webhooks/deliveries?sessionId=signed&limit=4&before=${first.body.nextCursor}`);
    expect(second.body.nextCursor).toBeNull();
    const rows = await t.db.query<{ id: string }>('SELECT id FROM webhook_deliveries WHERE session_id = $1 ORDER BY seq DESC', ['signed']);
    expect([...first.body.deliveries, ...second.body.deliveries].map((d) => d.id)).toEqual(rows.map((r) => r.id));
    const bad = await t.request('GET', '/whatsapp-web/webhooks/deliveries?status=lost');
    expect({ status: bad.status, body: bad.body }).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message: expect.stringContaining('status must be one of') } });
    expect((await t.request('GET', '/whatsapp-web/webhooks/deliveries?before=xyz')).status).toBe(400);
  });

  it('/metrics counts every attempt by outcome, and the outbox backlog', async () => {
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE status = 'pending'")).length === 0, 'nothing pending');
    const text = (await t.request<string>('GET', '/metrics')).body;
    const sample = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
    const [counts] = await t.db.query<{ delivered: number; attempts: number }>(
      "SELECT (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'delivered') AS delivered, (SELECT count(*)::int FROM webhook_attempts) AS attempts",
    );
    expect(sample('wa_webhook_deliveries_total{outcome="delivered"}')).toBe(counts.delivered);
    const all = ['delivered', 'retrying', 'failed'].map((o) => sample(`wa_webhook_deliveries_total{outcome="${o}"}`));
    expect(all[0] + all[1] + all[2]).toBe(counts.attempts);
    // The refused delivery failed three times (retried twice), the failed head once.
    expect(all[2]).toBe(4);
    expect(sample('wa_webhook_outbox_pending')).toBe(0);
    expect(sample('wa_webhook_outbox_oldest_pending_seconds')).toBe(0);
  });

  it('a purge removes the outbox\'s copies of the session\'s messages, sent or not; its session_status "stopped" is still sent', async () => {
    await sessionPostingTo('purged', '/purged');
    const client = t.whatsapp.clientOf('purged')!;
    client.receiveMessage(liveMessage(1));
    await receiver.waitForAcknowledged('/purged', 1);
    // The next ones are refused, and stay pending.
    receiver.answer = (r) => (r.path === '/purged' && r.body.event !== 'session_status' ? 503 : 200);
    client.receiveMessage(liveMessage(2));
    client.report((l) => l.onMessageEdit({ messageId: liveMessage(1).id, chatId: 'chat1@c.us', body: 'edited', editedAt: BASE + 300 }));
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'purged' AND event <> 'session_status' AND status <> 'delivered'")).length === 2, 'two written, not delivered');
    const deleted = await t.request('DELETE', '/whatsapp-web/session/purged?purge=true');
    expect(deleted.status).toBe(200);
    expect((await deliveries('purged')).map((d) => d.event)).toEqual(['session_status']);
    const [stopped] = await receiver.waitForAcknowledged('/purged', 2).then((got) => got.slice(1));
    receiver.answer = () => 200;
    expect(stopped.body).toMatchObject({ event: 'session_status', payload: { sessionId: 'purged', status: 'stopped' } });
    const [{ n }] = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE session_id = 'purged' AND payload::text LIKE '%live %'");
    expect(n).toBe(0);
  });
});

describe('WEBHOOK_ALLOW_PRIVATE=false', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await TestApp.start({ account: account(), env: { ...ENV, WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_ALLOW_PRIVATE: 'false' } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it.each([
    ['the address 127.0.0.1', (port: number) => `http://127.0.0.1:${port}/in`, 'refused: 127.0.0.1 is a private address (WEBHOOK_ALLOW_PRIVATE=false)'],
    ['localhost, which resolves to a private address', (port: number) => `http://localhost:${port}/in`, 'refused: localhost resolves to the private address'],
  ])('refuses %s before connecting: failed, the receiver never reached', async (_what, url, error) => {
    const sessionId = `private-${url(0).includes('localhost') ? 'name' : 'ip'}`;
    await t.readySession(sessionId);
    await waitFor(async () => (await t.db.query('SELECT 1 FROM sessions WHERE session_id = $1 AND status = $2', [sessionId, 'ready'])).length === 1, 'ready stored');
    expect((await t.request('PUT', `/whatsapp-web/session/${sessionId}/webhook`, { headers: JSON_HEADERS, body: JSON.stringify({ url: url(receiver.port) }) })).status).toBe(200);
    t.whatsapp.clientOf(sessionId)!.receiveMessage(liveMessage(1));
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND status = 'failed'", [sessionId])).length === 1, 'failed');
    const [row] = await t.db.query<{ last_error: string; attempts: number }>('SELECT last_error, attempts FROM webhook_deliveries WHERE session_id = $1', [sessionId]);
    expect(row.attempts).toBe(1);
    expect(row.last_error).toContain(error);
    expect(receiver.received).toEqual([]);
  });
});
