import { seedAccount } from './support/accounts';
import { TestApp } from './support/test-app';

/** PUT, GET and DELETE /whatsapp-web/session/:id/webhook, and what each refuses. */

const ALL_EVENTS = ['message', 'message_update', 'session_status', 'sync_chats_done', 'sync_chats_failed'];
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('webhook settings', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.start({ account: seedAccount() });
    expect((await t.request('POST', '/whatsapp-web/session/w1/start')).status).toBe(201);
  });
  afterAll(() => t?.close());

  const put = (sessionId: string, body: unknown, raw = false) =>
    t.request<Record<string, unknown>>('PUT', `/whatsapp-web/session/${sessionId}/webhook`, { headers: JSON_HEADERS, body: raw ? (body as string) : JSON.stringify(body) });
  const stored = () => t.db.query('SELECT session_id, url, secret, events FROM webhook_settings ORDER BY session_id');

  it('sets, answers without the secret, reads, replaces and removes a session\'s webhook', async () => {
    const set = await put('w1', { url: 'https://crm.example.com/hooks/wa', secret: 'whsec_1' });
    expect({ status: set.status, body: set.body }).toEqual({
      status: 200,
      body: { sessionId: 'w1', url: 'https://crm.example.com/hooks/wa', events: ALL_EVENTS, hasSecret: true, createdAt: expect.any(String), updatedAt: expect.any(String) },
    });
    expect(JSON.stringify(set.body)).not.toContain('whsec_1');
    expect(await stored()).toEqual([{ session_id: 'w1', url: 'https://crm.example.com/hooks/wa', secret: 'whsec_1', events: ALL_EVENTS }]);
    const read = await t.request('GET', '/whatsapp-web/session/w1/webhook');
    expect({ status: read.status, body: read.body }).toEqual({ status: 200, body: set.body });

    const replaced = await put('w1', { url: 'http://10.0.0.5:8080/in', events: ['message', 'sync_chats_done'] });
    expect(replaced.body).toMatchObject({ url: 'http://10.0.0.5:8080/in', events: ['message', 'sync_chats_done'], hasSecret: false, createdAt: set.body.createdAt });
    expect(await stored()).toEqual([{ session_id: 'w1', url: 'http://10.0.0.5:8080/in', secret: null, events: ['message', 'sync_chats_done'] }]);

    const removed = await t.request('DELETE', '/whatsapp-web/session/w1/webhook');
    expect({ status: removed.status, body: removed.body }).toEqual({ status: 200, body: { sessionId: 'w1', deleted: true } });
    expect(await stored()).toEqual([]);
    const none = await t.request('GET', '/whatsapp-web/session/w1/webhook');
    expect({ status: none.status, body: none.body }).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Session w1 has no webhook of its own' } });
    expect((await t.request('DELETE', '/whatsapp-web/session/w1/webhook')).status).toBe(404);
  });

  it.each([
    ['a URL that is not http(s)', { url: 'ftp://crm.example.com/in' }, 'url must be an absolute http:// or https:// URL'],
    ['a relative URL', { url: '/hooks/wa' }, 'url must be an absolute http:// or https:// URL'],
    ['a URL with credentials', { url: 'https://user:pass@crm.example.com/in' }, 'url must not hold a user name or password (deliveries are signed with the secret instead)'],
    ['a URL past 2048 characters', { url: `https://crm.example.com/${'a'.repeat(2048)}` }, 'url must be at most 2048 characters'],
    ['no URL', { events: ['message'] }, 'url must be a string'],
    ['a URL that is not a string', { url: 42 }, 'url must be a string'],
    ['unknown events', { url: 'https://crm.example.com/in', events: ['message', 'qr'] }, 'events must each be one of message, message_update, session_status, sync_chats_done, sync_chats_failed'],
    ['events that are not a list', { url: 'https://crm.example.com/in', events: 'message' }, 'events must be an array of message, message_update, session_status, sync_chats_done, sync_chats_failed'],
    ['no events', { url: 'https://crm.example.com/in', events: [] }, 'events must name at least one event (leave it out for all of them)'],
    ['an event twice', { url: 'https://crm.example.com/in', events: ['message', 'message'] }, 'events must not repeat an event'],
    ['an empty secret', { url: 'https://crm.example.com/in', secret: '' }, 'secret must be 1 to 256 characters'],
    ['an oversized secret', { url: 'https://crm.example.com/in', secret: 's'.repeat(257) }, 'secret must be 1 to 256 characters'],
    ['a secret that is not a string', { url: 'https://crm.example.com/in', secret: 7 }, 'secret must be a string'],
  ])('%s: 400, nothing stored', async (_what, body, message) => {
    const answer = await put('w1', body);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 400, body: { statusCode: 400, error: 'Bad Request', message } });
    expect(await stored()).toEqual([]);
  });

  it('a body that is not JSON: 400, nothing stored', async () => {
    const answer = await put('w1', '{"url": "https://crm.example.com/in",', true);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(await stored()).toEqual([]);
  });

  it('an unknown session: 404 on every route; a bad session id: 400', async () => {
    for (const method of ['PUT', 'GET', 'DELETE']) {
      const answer = await t.request(method, '/whatsapp-web/session/nobody/webhook', { headers: JSON_HEADERS, body: method === 'PUT' ? JSON.stringify({ url: 'https://crm.example.com/in' }) : undefined });
      expect({ method, status: answer.status, body: answer.body }).toEqual({ method, status: 404, body: { statusCode: 404, error: 'Not Found', message: expect.stringContaining('nobody') } });
    }
    expect((await put('bad id!', { url: 'https://crm.example.com/in' })).status).toBe(400);
    expect(await stored()).toEqual([]);
  });

  it('goes with its session when the session is deleted', async () => {
    expect((await t.request('POST', '/whatsapp-web/session/w2/start')).status).toBe(201);
    expect((await put('w2', { url: 'https://crm.example.com/in' })).status).toBe(200);
    expect((await t.request('DELETE', '/whatsapp-web/session/w2')).status).toBe(200);
    expect(await stored()).toEqual([]);
  });
});
