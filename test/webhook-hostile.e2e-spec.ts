import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { Socket, createServer as createNetServer } from 'node:net';
import { Logger } from '@nestjs/common';
import { accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { WaMessage } from '../src/whatsapp/client/whatsapp.types';
import { chat, messagesFor } from './support/accounts';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { gate, waitFor } from './support/wait';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * Webhook delivery attacked from outside: races on the retry route, a purge racing
 * deliveries and a catch-up, hostile URLs and receivers, hostile listing queries, many sessions,
 * the database's connections cut while live messages flow, and how the worker polls when a queue is blocked.
 */

jest.setTimeout(90_000);

const BASE = 1_764_150_000;
const JSON_HEADERS = { 'content-type': 'application/json' };

function liveMessage(n: number, chatId = 'chat1@c.us', tag = 'LIVE'): WaMessage {
  const spec = { id: `false_${chatId}_3EB0${tag}${n}`, fromMe: false, author: null, body: `live ${n}`, type: 'chat', timestamp: BASE + 100 + n, hasMedia: false, ack: 0 };
  return { ...spec, chatId, raw: { ...spec } };
}

function account() {
  return accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [chat('chat1@c.us', 3), chat('chat2@c.us', 2)] });
}

/** Terminates every backend of the database that is not the test's own; answers how many. */
async function terminateAll(db: TestDatabase): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  return row.n;
}

/** Warnings and errors the app logs (the test app is silent otherwise). */
function captureLogs(): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spies = (['warn', 'error'] as const).map((level) =>
    jest.spyOn(Logger.prototype, level).mockImplementation(function (this: Logger, ...[message]: unknown[]) {
      lines.push(`${level} [${(this as unknown as { context?: string }).context}] ${String(message)}`);
    }),
  );
  return { lines, restore: () => spies.forEach((s) => s.mockRestore()) };
}

async function startApp(env: Record<string, string>): Promise<TestApp> {
  return TestApp.start({ account: account(), env: { RATE_LIMIT_MAX: '0', ...env } });
}

async function readyStored(t: TestApp, sessionId: string): Promise<void> {
  await t.readySession(sessionId);
  await waitFor(async () => (await t.db.query('SELECT 1 FROM sessions WHERE session_id = $1 AND status = $2', [sessionId, 'ready'])).length === 1, 'ready stored');
}

async function putWebhook(t: TestApp, sessionId: string, url: string, extra: Record<string, unknown> = {}) {
  return t.request<Record<string, unknown>>('PUT', `/whatsapp-web/session/${sessionId}/webhook`, { headers: JSON_HEADERS, body: JSON.stringify({ url, ...extra }) });
}

const messageIdOf = (payload: Record<string, unknown>) => (payload.message as { id?: string } | undefined)?.id;

describe('hostile: main app (retry base 40 ms, 3 attempts, timeout 1000 ms)', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await startApp({ WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '1000', DB_POOL_SIZE: '5' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('2. 20 concurrent retries of one failed delivery: exactly one 200, nineteen 409, delivered once', async () => {
    await readyStored(t, 'race');
    expect((await putWebhook(t, 'race', receiver.url('/race'))).status).toBe(200);
    let accept = false;
    receiver.answer = (r) => (r.path === '/race' && !accept ? 500 : 200);
    t.whatsapp.clientOf('race')!.receiveMessage(liveMessage(1));
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'race' AND status = 'failed'")).length === 1, 'failed');
    const [{ id }] = await t.db.query<{ id: string }>("SELECT id FROM webhook_deliveries WHERE session_id = 'race'");
    accept = true;
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.request<{ statusCode?: number; error?: string; message?: string }>('POST', `/whatsapp-web/webhooks/deliveries/${id}/retry`)));
    const statuses = answers.map((a) => a.status).sort();
    expect({ ok: statuses.filter((s) => s === 200).length, conflict: statuses.filter((s) => s === 409).length, other: statuses.filter((s) => s !== 200 && s !== 409) }).toEqual({ ok: 1, conflict: 19, other: [] });
    for (const a of answers.filter((x) => x.status === 409)) expect(Object.keys(a.body).sort()).toEqual(['error', 'message', 'statusCode']);
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'race' AND status = 'delivered'")).length === 1, 'delivered');
    // The queue goes one at a time: once a later event of it is delivered, a duplicate would have gone first.
    t.whatsapp.clientOf('race')!.receiveMessage(liveMessage(2));
    await waitFor(() => receiver.acknowledged('/race').some((r) => messageIdOf(r.body.payload) === liveMessage(2).id), 'a later delivery of the queue');
    expect(receiver.acknowledged('/race').filter((r) => r.body.id === id).length).toBe(1);
    const attempts = await t.db.query<{ status_code: number }>('SELECT status_code FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id', [id]);
    expect(attempts.map((a) => a.status_code)).toEqual([500, 500, 500, 200]);
  });

  it('2b. a retry of a failed delivery while a later one of its queue is in flight: still one POST at a time per queue', async () => {
    await readyStored(t, 'overlap');
    expect((await putWebhook(t, 'overlap', receiver.url('/overlap'))).status).toBe(200);
    const first = liveMessage(1);
    // The first is refused until it fails; the second hangs (timeout 1000 ms).
    receiver.answer = (r) => (r.path !== '/overlap' ? 200 : messageIdOf(r.body.payload) === first.id ? 500 : 'hang');
    const client = t.whatsapp.clientOf('overlap')!;
    client.receiveMessage(first);
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'overlap' AND status = 'failed'")).length === 1, 'the first failed');
    client.receiveMessage(liveMessage(2));
    await waitFor(() => receiver.at('/overlap').some((r) => messageIdOf(r.body.payload) === liveMessage(2).id), 'the second in flight');
    const secondAt = receiver.at('/overlap').find((r) => messageIdOf(r.body.payload) === liveMessage(2).id)!.at;
    const [{ id }] = await t.db.query<{ id: string }>("SELECT id FROM webhook_deliveries WHERE session_id = 'overlap' AND status = 'failed'");
    receiver.answer = () => 200;
    expect((await t.request('POST', `/whatsapp-web/webhooks/deliveries/${id}/retry`)).status).toBe(200);
    await waitFor(() => receiver.at('/overlap').filter((r) => r.body.id === id).length === 4, 'the retried one sent');
    const retriedAt = receiver.at('/overlap').filter((r) => r.body.id === id)[3].at;
    // The second's attempt lasts until its 1000 ms timeout: the retried one must not leave before that.
    expect({ retriedWhileSecondInFlightMs: retriedAt - secondAt < 1000 ? retriedAt - secondAt : 'after' }).toEqual({ retriedWhileSecondInFlightMs: 'after' });
  });

  it.each<[string, string]>([
    ['limit=0', 'limit=0'],
    ['limit=501', 'limit=501'],
    ['limit=1.5', 'limit=1.5'],
    ['limit=-1', 'limit=-1'],
    ['limit=1e2', 'limit=1e2'],
    ['limit=99999999999999999999', 'limit=99999999999999999999'],
    ['limit twice', 'limit=5&limit=6'],
    ['limit empty', 'limit='],
    ['status twice', 'status=pending&status=failed'],
    ['status empty', 'status='],
    ['status PENDING', 'status=PENDING'],
    ["sessionId '../'", 'sessionId=../etc'],
    ['sessionId %2e%2e%2f', 'sessionId=%2e%2e%2fx'],
    ['sessionId twice', 'sessionId=a&sessionId=b'],
    ['sessionId 65 chars', `sessionId=${'a'.repeat(65)}`],
    ['sessionId NUL', 'sessionId=a%00b'],
    ['sessionId 10k chars', `sessionId=${'a'.repeat(10_000)}`],
    ['before random base64', `before=${Buffer.from('hello world, random').toString('base64')}`],
    ['before random base64url', `before=${Buffer.from([0xff, 0xfe, 0x00, 0x10, 0x80]).toString('base64url')}`],
    ['before d0', `before=${Buffer.from('d0').toString('base64url')}`],
    ['before d + 19 digits (past bigint)', `before=${Buffer.from('d9999999999999999999').toString('base64url')}`],
    ['before d-1', `before=${Buffer.from('d-1').toString('base64url')}`],
    ['before twice', `before=${Buffer.from('d5').toString('base64url')}&before=${Buffer.from('d6').toString('base64url')}`],
    ['before empty', 'before='],
    ['before padded base64', `before=${Buffer.from('d12').toString('base64')}==`],
  ])('6. GET deliveries?%s: a 400 {statusCode, error, message}, never a 500', async (_what, query) => {
    const answer = await t.request<Record<string, unknown>>('GET', `/whatsapp-web/webhooks/deliveries?${query}`);
    expect({ query, status: answer.status, keys: typeof answer.body === 'object' ? Object.keys(answer.body).sort() : answer.body }).toEqual({ query, status: 400, keys: ['error', 'message', 'statusCode'] });
    expect(answer.body.statusCode).toBe(400);
    expect(answer.body.error).toBe('Bad Request');
    expect(typeof answer.body.message).toBe('string');
  });

  it.each<[string, string, number]>([
    ['limit=500', 'limit=500', 200],
    ['limit=1', 'limit=1', 200],
    // Express 5's simple query parser and the pipe's whitelist: unknown names (brackets included) are ignored.
    ['limit[] (an unknown name, ignored)', 'limit[]=5', 200],
    ['status[] (an unknown name: the filter is silently dropped)', 'status[]=pending', 200],
    ['status[a]', 'status[a]=pending', 200],
    ['an unknown parameter', 'foo=bar', 200],
    ['__proto__', '__proto__[status]=x', 200],
    ['constructor.prototype', 'constructor[prototype][limit]=0', 200],
    ['before d + 18 digits', `before=${Buffer.from('d999999999999999999').toString('base64url')}`, 200],
    ['retry id nil uuid', 'RETRY:00000000-0000-0000-0000-000000000000', 404],
    ['retry id upper-case', 'RETRY:AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA', 404],
    ['retry id with braces', 'RETRY:{aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa}', 400],
    ['retry id ../', 'RETRY:..%2F..%2Fhealth', 400],
  ])('6. edges that are fine: %s', async (_what, query, status) => {
    const answer = query.startsWith('RETRY:')
      ? await t.request<Record<string, unknown>>('POST', `/whatsapp-web/webhooks/deliveries/${query.slice(6)}/retry`)
      : await t.request<Record<string, unknown>>('GET', `/whatsapp-web/webhooks/deliveries?${query}`);
    expect({ query, status: answer.status }).toEqual({ query, status });
  });

  it.each<[string, (port: number) => string, number]>([
    ['[::1]', (p) => `http://[::1]:${p}/x`, 200],
    ['0x7f000001', (p) => `http://0x7f000001:${p}/x`, 200],
    ['2130706433', (p) => `http://2130706433:${p}/x`, 200],
    ['a fragment', (p) => `http://127.0.0.1:${p}/frag#secret-part`, 200],
    ['a unicode host', () => 'http://ëxample.invalid/hook', 200],
    ['a 300-character label', () => `http://${'a'.repeat(300)}.invalid/`, 200],
    ['a 2100-character host', () => `http://${'a'.repeat(2100)}.invalid/`, 400],
    ['a user', (p) => `http://user@127.0.0.1:${p}/`, 400],
    ['javascript:', () => 'javascript:alert(1)', 400],
    ['file:', () => 'file:///etc/passwd', 400],
    ['ftp:', () => 'ftp://example.com/', 400],
    ['relative', () => '/hooks', 400],
    ['a space in the host', () => 'http://exa mple.com/', 400],
    ['an empty string', () => '', 400],
    ['not a string', () => '__NUMBER__', 400],
  ])('4. PUT webhook with %s: %d', async (what, url, status) => {
    await readyStored(t, 'urls');
    const value = url(receiver.port);
    const answer = await t.request<Record<string, unknown>>('PUT', '/whatsapp-web/session/urls/webhook', { headers: JSON_HEADERS, body: value === '__NUMBER__' ? '{"url": 5}' : JSON.stringify({ url: value }) });
    expect({ what, status: answer.status }).toEqual({ what, status });
    if (status === 400) expect(Object.keys(answer.body).sort()).toEqual(['error', 'message', 'statusCode']);
  });

  it.each<[string, string]>([
    ['CRLF in the path (header-injection attempt)', '/crlf\r\nX-Injected: 1'],
    ['a newline in the host', '\n'],
    ['a tab', '/tab\there'],
  ])('4. PUT webhook with %s: refused, or stored without control characters (never stored and answered as given)', async (what, piece) => {
    await readyStored(t, 'urls');
    const value = piece === '\n' ? `http://127.0.0.1\n:${receiver.port}/nl` : `http://127.0.0.1:${receiver.port}${piece}`;
    const answer = await putWebhook(t, 'urls', value);
    const [row] = await t.db.query<{ url: string }>("SELECT url FROM webhook_settings WHERE session_id = 'urls'");
    expect({ what, status: answer.status, answeredHasControl: /[\r\n\t]/.test(String(answer.body.url ?? '')), storedHasControl: /[\r\n\t]/.test(row?.url ?? '') }).toEqual({
      what,
      status: answer.status === 400 ? 400 : 200,
      answeredHasControl: false,
      storedHasControl: false,
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ['a NUL in the URL path', { url: 'http://127.0.0.1:9/a\u0000b' }],
    ['a NUL in the secret', { url: 'http://127.0.0.1:9/ok', secret: 'se\u0000cret' }],
    ['a lone surrogate in the URL', { url: 'http://127.0.0.1:9/\ud800' }],
  ])('4. PUT webhook with %s: 200 or 400, never a 500', async (what, body) => {
    await readyStored(t, 'urls');
    const answer = await t.request<Record<string, unknown>>('PUT', '/whatsapp-web/session/urls/webhook', { headers: JSON_HEADERS, body: JSON.stringify(body) });
    expect({ what, status: answer.status === 200 || answer.status === 400 ? 'ok' : answer.status, body: answer.status === 500 ? answer.body : 'ok' }).toEqual({ what, status: 'ok', body: 'ok' });
  });

  it('4. a URL with a fragment is delivered to its path, without the fragment', async () => {
    await readyStored(t, 'frag');
    expect((await putWebhook(t, 'frag', `${receiver.url('/frag')}#secret-part`)).status).toBe(200);
    t.whatsapp.clientOf('frag')!.receiveMessage(liveMessage(1));
    await waitFor(() => receiver.received.some((r) => r.body.sessionId === 'frag'), 'delivered');
    expect(receiver.received.filter((r) => r.body.sessionId === 'frag').map((r) => r.path)).toEqual(['/frag']);
  });

  describe('5. hostile receivers', () => {
    let server: Server;
    let port: number;
    const open = new Set<Socket>();
    let dribbling = 0;
    beforeAll(async () => {
      server = createServer((request: IncomingMessage, response: ServerResponse) => {
        request.resume();
        request.on('end', () => {
          if (request.url === '/huge') {
            response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(10 * 1024 * 1024) });
            response.end(Buffer.alloc(10 * 1024 * 1024, 'x'));
          } else if (request.url === '/huge-chunked') {
            response.writeHead(200, { 'content-type': 'text/plain' });
            let sent = 0;
            const chunk = Buffer.alloc(64 * 1024, 'y');
            const more = () => {
              while (sent < 10 * 1024 * 1024) {
                sent += chunk.length;
                if (!response.write(chunk)) return void response.once('drain', more);
              }
              response.end();
            };
            response.on('close', () => (sent = Infinity));
            more();
          } else if (request.url === '/dribble') {
            dribbling++;
            response.writeHead(200, { 'content-type': 'text/plain' });
            const timer = setInterval(() => response.write('.'), 100);
            response.on('close', () => {
              dribbling--;
              clearInterval(timer);
            });
          } else {
            response.writeHead(200);
            response.end();
          }
        });
      });
      server.on('connection', (s) => {
        open.add(s);
        s.once('close', () => open.delete(s));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it.each([['/huge'], ['/huge-chunked']])('a 200 answered with a 10 MB body (%s): delivered once, quickly, the body not read whole', async (path) => {
      const sessionId = `huge${path.length}`;
      await readyStored(t, sessionId);
      expect((await putWebhook(t, sessionId, `http://127.0.0.1:${port}${path}`)).status).toBe(200);
      const rssBefore = process.memoryUsage().rss;
      t.whatsapp.clientOf(sessionId)!.receiveMessage(liveMessage(1));
      await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND status <> 'pending'", [sessionId])).length === 1, 'an outcome');
      const [row] = await t.db.query<{ status: string; attempts: number; last_error: string | null; last_status_code: number }>(
        'SELECT status, attempts, last_error, last_status_code FROM webhook_deliveries WHERE session_id = $1',
        [sessionId],
      );
      expect(row).toEqual({ status: 'delivered', attempts: 1, last_error: null, last_status_code: 200 });
      const [attempt] = await t.db.query<{ duration_ms: number }>('SELECT duration_ms FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.session_id = $1', [sessionId]);
      expect(attempt.duration_ms).toBeLessThan(1000);
      // Memory of this process (the receiver's 10 MB buffer included) stays bounded.
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
    });

    it('a 200 whose body dribbles one byte every 100 ms: cut at the timeout, recorded as not delivered, retried, then failed; no connection left open', async () => {
      await readyStored(t, 'dribble');
      expect((await putWebhook(t, 'dribble', `http://127.0.0.1:${port}/dribble`)).status).toBe(200);
      t.whatsapp.clientOf('dribble')!.receiveMessage(liveMessage(1));
      await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'dribble' AND status = 'failed'")).length === 1, 'failed after 3 attempts', 20_000);
      const attempts = await t.db.query<{ status_code: number | null; error: string; duration_ms: number }>(
        "SELECT a.status_code, a.error, a.duration_ms FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.session_id = 'dribble' ORDER BY a.id",
      );
      expect(attempts.length).toBe(3);
      for (const a of attempts) {
        expect(a.error).toMatch(/no answer within 1000 ms|the connection closed before the answer ended/);
        expect(a.duration_ms).toBeGreaterThanOrEqual(990);
        expect(a.duration_ms).toBeLessThan(1500);
      }
      await waitFor(() => dribbling === 0, 'the dribbling answers closed', 3000);
    });
  });

  it('7. 50 sessions, each with its own webhook, 20 live messages each: all delivered once, in order per session; the backlog ends at 0', async () => {
    const N = 50;
    const M = 20;
    receiver.answer = () => 200;
    const ids = Array.from({ length: N }, (_, n) => `many-${n}`);
    for (const id of ids) await readyStored(t, id);
    for (const id of ids) expect((await putWebhook(t, id, receiver.url(`/many/${id}`))).status).toBe(200);
    for (let m = 1; m <= M; m++) for (const id of ids) t.whatsapp.clientOf(id)!.receiveMessage(liveMessage(m));
    await waitFor(() => ids.every((id) => receiver.acknowledged(`/many/${id}`).length >= M), 'every delivery acknowledged', 60_000);
    for (const id of ids) {
      const got = receiver.at(`/many/${id}`);
      expect({ id, bodies: got.map((r) => (r.body.payload.message as { body: string }).body) }).toEqual({ id, bodies: Array.from({ length: M }, (_, m) => `live ${m + 1}`) });
      expect(got.every((r) => r.body.sessionId === id)).toBe(true);
    }
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE status = 'pending' AND session_id LIKE 'many-%'")).length === 0, 'nothing pending');
    const metrics = (await t.request<string>('GET', '/metrics')).body;
    const pending = Number(/^wa_webhook_outbox_pending (\S+)$/m.exec(metrics)?.[1]);
    const [{ n }] = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'pending'");
    expect(pending).toBe(n);
  });

  it('3. DELETE ?purge=true racing a slow delivery in flight and an incremental run writing catch-up events', async () => {
    const logs = captureLogs();
    try {
      const sessionId = 'purge-race';
      const path = '/purge-race';
      await readyStored(t, sessionId);
      expect((await putWebhook(t, sessionId, receiver.url(path))).status).toBe(200);
      // The first import (no message events), then the slow receiver.
      expect((await t.request('POST', `/whatsapp-web/session/${sessionId}/sync-chats?mode=incremental`)).status).toBe(200);
      // Slow, but within the 1000 ms timeout: the 2xx of an in-flight delivery lands after the purge.
      receiver.answer = (r) => (r.path === path ? { status: 200, afterMs: 700 } : 200);
      const client = t.whatsapp.clientOf(sessionId)!;
      for (let n = 1; n <= 5; n++) client.receiveMessage(liveMessage(n));
      client.report((l) => l.onMessageEdit({ messageId: liveMessage(1).id, chatId: 'chat1@c.us', body: 'edited', editedAt: BASE + 300 }));
      await waitFor(() => receiver.at(path).some((r) => r.body.event === 'message'), 'a message delivery in flight');
      // Meanwhile on the phone: chat1 and chat2 got new messages; the run's second chat is held.
      const grown = (id: string, count: number) => chat(id, 3 + count, { timestamp: BASE + 500, messages: [...messagesFor(id, 3), ...messagesFor(id, 3 + count, BASE + 500).slice(3).map((m) => ({ ...m, id: `${m.id}_NEW` }))] });
      t.whatsapp.account = accountFromSpec({ scanAfterMs: 0, fetchLatencyMs: 0, chats: [grown('chat1@c.us', 30), grown('chat2@c.us', 30)] });
      const hold = gate();
      let fetches = 0;
      t.whatsapp.beforeFetch = async (s) => {
        if (s === sessionId && ++fetches === 2) await hold.promise;
      };
      const run = t.request<{ statusCode?: number }>('POST', `/whatsapp-web/session/${sessionId}/sync-chats?mode=incremental`);
      await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND payload ->> 'source' = 'catch-up'", [sessionId])).length > 0, 'catch-up events written');
      const deleting = t.request<Record<string, unknown>>('DELETE', `/whatsapp-web/session/${sessionId}?purge=true`);
      setTimeout(hold.open, 200);
      const [deleted, ran] = await Promise.all([deleting, run]);
      const deletedAt = Date.now();
      t.whatsapp.beforeFetch = undefined;
      t.whatsapp.account = account();
      expect(deleted.status).toBe(200);
      expect([200, 409, 503]).toContain(ran.status);
      const leftover = () => t.db.query<{ event: string; status: string }>("SELECT event, status FROM webhook_deliveries WHERE session_id = $1 AND event IN ('message', 'message_update')", [sessionId]);
      expect(await leftover()).toEqual([]);
      // The in-flight attempt ends after the purge (its answer comes 700 ms after the request);
      // nothing of the session's messages comes back.
      await waitFor(() => receiver.at(path).every((r) => r.answered !== null), 'the slow answers given');
      await waitFor(async () => (await t.db.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE '%webhook_attempts%' AND pid <> pg_backend_pid()")).length === 0, 'the attempts recorded');
      expect(await leftover()).toEqual([]);
      expect((await t.db.query('SELECT 1 FROM messages WHERE session_id = $1', [sessionId])).length).toBe(0);
      // The run's own end (sync_chats_failed) and the delete's session_status are not message events: they may still go.
      const sentAfter = receiver.at(path).filter((r) => r.at > deletedAt && (r.body.event === 'message' || r.body.event === 'message_update'));
      expect(sentAfter.map((r) => r.body.event)).toEqual([]);
      receiver.answer = () => 200;
      // Errors are logged sensibly: no 500, no stack, no FK violation shown as an error.
      expect(logs.lines.filter((l) => l.startsWith('error'))).toEqual([]);
    } finally {
      logs.restore();
      t.whatsapp.beforeFetch = undefined;
      t.whatsapp.account = account();
    }
  });

  it('8. database connections killed again and again while 100 live messages flow: stored <=> delivered (at least once), nothing delivered that is not stored', async () => {
    const logs = captureLogs();
    try {
      const sessionId = 'flaky';
      const path = '/flaky';
      receiver.answer = () => 200;
      await readyStored(t, sessionId);
      expect((await putWebhook(t, sessionId, receiver.url(path))).status).toBe(200);
      const client = t.whatsapp.clientOf(sessionId)!;
      let killed = 0;
      for (let n = 1; n <= 100; n++) {
        client.receiveMessage(liveMessage(n, 'chat1@c.us', 'FLAKY'));
        if (n % 4 === 0) killed += await terminateAll(t.db);
        await new Promise((r) => setTimeout(r, 3));
      }
      expect(killed).toBeGreaterThan(0);
      // Let the writes and the deliveries settle (retries are 40 ms apart at first).
      await waitFor(async () => {
        const rows = await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND status = 'pending'", [sessionId]).catch(() => [1]);
        return rows.length === 0;
      }, 'nothing pending', 30_000);
      // Live writes of a session run one after another: once a last message is delivered, every
      // write before it has ended.
      client.receiveMessage(liveMessage(0, 'chat1@c.us', 'BARRIER'));
      await waitFor(() => receiver.acknowledged(path).some((r) => messageIdOf(r.body.payload) === liveMessage(0, 'chat1@c.us', 'BARRIER').id), 'the last message delivered', 30_000);
      // A delivery answered while a cut kept its record from being written stays pending until its
      // lease runs out, then is sent again (at least once): wait for those records too.
      await waitFor(async () => {
        const rows = await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND status = 'pending'", [sessionId]).catch(() => [1]);
        return rows.length === 0;
      }, 'every answer recorded', 30_000);
      const stored = (await t.db.query<{ wa_id: string }>("SELECT wa_id FROM messages WHERE session_id = $1 AND wa_id LIKE '%FLAKY%'", [sessionId])).map((r) => r.wa_id).sort();
      const outbox = await t.db.query<{ mid: string; status: string }>("SELECT payload -> 'message' ->> 'id' AS mid, status FROM webhook_deliveries WHERE session_id = $1 AND event = 'message' AND payload -> 'message' ->> 'id' LIKE '%FLAKY%'", [sessionId]);
      const acknowledged = receiver.acknowledged(path).map((r) => messageIdOf(r.body.payload)!).filter((id) => id.includes('FLAKY'));
      const report = {
        stored: stored.length,
        outboxRows: outbox.length,
        notDelivered: outbox.filter((r) => r.status !== 'delivered').map((r) => `${r.mid}:${r.status}`),
        storedWithoutOutbox: stored.filter((id) => !outbox.some((r) => r.mid === id)),
        outboxWithoutStored: outbox.filter((r) => !stored.includes(r.mid)).map((r) => r.mid),
        outboxDuplicates: outbox.length - new Set(outbox.map((r) => r.mid)).size,
        storedNotAcknowledged: stored.filter((id) => !acknowledged.includes(id)),
        acknowledgedNotStored: [...new Set(acknowledged.filter((id) => !stored.includes(id)))],
      };
      expect(report).toEqual({ stored: report.stored, outboxRows: report.stored, notDelivered: [], storedWithoutOutbox: [], outboxWithoutStored: [], outboxDuplicates: 0, storedNotAcknowledged: [], acknowledgedNotStored: [] });
      // Order per session kept for the first acknowledgements.
      const firsts = acknowledged.filter((id, i) => acknowledged.indexOf(id) === i);
      const order = (id: string) => Number(/FLAKY(\d+)$/.exec(id)![1]);
      expect(firsts.map(order)).toEqual([...firsts.map(order)].sort((a, b) => a - b));
      // The app is still healthy.
      await waitFor(async () => (await t.request('GET', '/health')).status === 200, 'healthy again');
    } finally {
      logs.restore();
    }
  });
});

describe('hostile: the worker does not spin while a queue is blocked by its head', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await startApp({ WEBHOOK_RETRY_BASE_MS: '5000', WEBHOOK_MAX_ATTEMPTS: '100', WEBHOOK_TIMEOUT_MS: '3000' });
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  async function claimsDuring(ms: number): Promise<number> {
    t.sql.startRecording();
    await new Promise((r) => setTimeout(r, ms));
    return t.sql.stopRecording().filter((q) => q.includes('WITH RECURSIVE queues AS')).length;
  }

  it('a head in back-off (receiver answers 503, next attempt in 5 s) with 3 deliveries behind it: a handful of claims in 2 s, not hundreds', async () => {
    await readyStored(t, 'backoff');
    expect((await putWebhook(t, 'backoff', receiver.url('/backoff'))).status).toBe(200);
    receiver.answer = () => 503;
    const client = t.whatsapp.clientOf('backoff')!;
    for (let n = 1; n <= 4; n++) client.receiveMessage(liveMessage(n));
    await waitFor(() => receiver.at('/backoff').length === 1, 'the head tried once');
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = 'backoff' AND event = 'message'")).length === 4, 'all 4 written');
    const claims = await claimsDuring(2000);
    expect(claims).toBeLessThanOrEqual(5);
  });

  it('a head in flight to a receiver that hangs (3 s timeout), deliveries behind it: a handful of claims in 2 s', async () => {
    await readyStored(t, 'hanging');
    expect((await putWebhook(t, 'hanging', receiver.url('/hanging'))).status).toBe(200);
    receiver.answer = (r) => (r.path === '/hanging' ? 'hang' : 503);
    const client = t.whatsapp.clientOf('hanging')!;
    for (let n = 1; n <= 4; n++) client.receiveMessage(liveMessage(n));
    await waitFor(() => receiver.at('/hanging').length === 1, 'the head in flight');
    const claims = await claimsDuring(2000);
    expect(claims).toBeLessThanOrEqual(5);
  });
});

describe('hostile: WEBHOOK_ALLOW_PRIVATE=false, every spelling of a loopback or private address', () => {
  let t: TestApp;
  let trap: ReturnType<typeof createNetServer>;
  let port: number;
  const reached: string[] = [];

  beforeAll(async () => {
    // Dual-stack: any IPv4 or IPv6 connection reaching this host is seen.
    trap = createNetServer((socket) => {
      reached.push(socket.remoteAddress ?? '?');
      socket.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '::', resolve));
    port = (trap.address() as { port: number }).port;
    t = await startApp({ WEBHOOK_RETRY_BASE_MS: '40', WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_ALLOW_PRIVATE: 'false' });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise<void>((resolve) => trap.close(() => resolve()));
  });

  let counter = 0;
  it.each<[string]>([
    ['http://[::1]:PORT/'],
    ['http://0x7f000001:PORT/'],
    ['http://2130706433:PORT/'],
    ['http://0177.0.0.1:PORT/'],
    ['http://127.1:PORT/'],
    ['http://0:PORT/'],
    ['http://[::]:PORT/'],
    ['http://[::ffff:127.0.0.1]:PORT/'],
    ['http://[0:0:0:0:0:ffff:7f00:1]:PORT/'],
    ['http://127.0.0.2:PORT/'],
    ['http://localhost:PORT/'],
    ['http://LOCALHOST:PORT/'],
    ['http://localhost.:PORT/'],
    ['http://vm:PORT/'],
    ['http://runsc:PORT/'],
    ['http://127.0.0.1\n:PORT/'],
    ['http://%31%32%37.0.0.1:PORT/'],
    ['http://[::ffff:a9fe:a9fe]:PORT/'],
  ])('refuses %s before connecting: the trap is never reached', async (template) => {
    const sessionId = `priv-${counter++}`;
    await readyStored(t, sessionId);
    const url = template.replace('PORT', String(port));
    const set = await putWebhook(t, sessionId, url);
    if (set.status === 400) return; // refused at the door is fine too
    expect(set.status).toBe(200);
    const before = reached.length;
    t.whatsapp.clientOf(sessionId)!.receiveMessage(liveMessage(1));
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE session_id = $1 AND status = 'failed'", [sessionId])).length === 1, 'failed', 10_000);
    const [row] = await t.db.query<{ last_error: string }>('SELECT last_error FROM webhook_deliveries WHERE session_id = $1', [sessionId]);
    // Refused, or (a name this resolver does not know, e.g. "localhost.") not resolved: never connected.
    expect({ url, reached: reached.slice(before), error: row.last_error }).toEqual({ url, reached: [], error: expect.stringMatching(/^refused: |^getaddrinfo ENOTFOUND /) });
  });
});
