import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_WEB_VERSION, FakeAccount, FakeWaApi, FakePageGlobal, writeFakePage } from './fixtures/fake-whatsapp-web/fake-page';
import { seedAccount } from './support/accounts';
import { WwebjsTestClientFactory } from './support/client-factories';
import { chromiumProcesses } from './support/processes';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * The whole service on the whatsapp-web.js provider: REST and a real socket.io client above, the
 * unmodified library in headless Chromium below, driving a fake WhatsApp Web page.
 */
const ALICE = '5511999990001@c.us';
const GROUP = '120363000000000001@g.us';
const STUCK = '5511999990003@c.us';
const T = 1_764_150_000;
const CALL_TIMEOUT_MS = 1500;

const account: FakeAccount = {
  me: { user: '5511888880000', pushName: 'Shop' },
  chats: [
    {
      id: ALICE,
      name: 'Alice',
      unreadCount: 1,
      timestamp: T,
      messages: [
        { id: `false_${ALICE}_3EB0A1`, fromMe: false, body: 'hi, is the stand open?', timestamp: T - 120 },
        { id: `true_${ALICE}_3EB0A2`, fromMe: true, body: 'yes, until 6pm', timestamp: T - 60, ack: 3, quotedMsgId: `false_${ALICE}_3EB0A1` },
        { id: `false_${ALICE}_3EB0A3`, fromMe: false, type: 'image', hasMedia: true, caption: 'this one?', body: '', timestamp: T },
      ],
    },
    {
      id: GROUP,
      name: 'Team Sales',
      isGroup: true,
      timestamp: T - 600,
      participants: ['5511911110000@c.us', '5511922220000@c.us'],
      messages: [
        { id: `false_${GROUP}_3EB0G1_5511911110000@c.us`, fromMe: false, author: '5511911110000@c.us', body: 'numbers are in', timestamp: T - 900 },
        { id: `false_${GROUP}_3EB0G2_5511922220000@c.us`, fromMe: false, author: '5511922220000@c.us', body: 'great 🎉', timestamp: T - 700 },
        { id: `true_${GROUP}_3EB0G3`, fromMe: true, body: 'thanks all', timestamp: T - 600, ack: 2 },
      ],
    },
    {
      id: STUCK,
      name: 'Bob',
      timestamp: T - 3600,
      hangFetch: true,
      messages: [
        { id: `false_${STUCK}_3EB0B1`, fromMe: false, body: 'old', timestamp: T - 7200 },
        { id: `false_${STUCK}_3EB0B2`, fromMe: false, body: 'older', timestamp: T - 3600 },
      ],
    },
  ],
};

describe('whatsapp-web.js provider, end to end', () => {
  const root = mkdtempSync(join(tmpdir(), 'wa-wwebjs-e2e-'));
  const dataDir = join(root, 'logins');
  let factory: WwebjsTestClientFactory;
  let t: TestApp;

  beforeAll(async () => {
    writeFakePage(join(root, 'web'), account);
    t = await TestApp.start({
      account: seedAccount(),
      env: {
        WWEBJS_WEB_VERSION: FAKE_WEB_VERSION,
        WWEBJS_WEB_CACHE: `local:${join(root, 'web')}`,
        WWEBJS_DATA_DIR: dataDir,
        WWEBJS_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      },
      clientFactory: (config) => (factory = new WwebjsTestClientFactory(config.wwebjs, undefined)),
    });
  });
  afterAll(async () => {
    await t.close();
    await waitFor(() => chromiumProcesses(root).length === 0, 'every browser closed', 15_000);
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs `action` on `window.__fakeWa` in the session's page. */
  async function page<R>(sessionId: string, action: (api: FakeWaApi) => R): Promise<Awaited<R>> {
    const pupPage = factory.libraryClientOf(sessionId)?.pupPage;
    if (!pupPage) throw new Error(`no page for ${sessionId}`);
    return pupPage.evaluate((run) => {
      const api = (globalThis as unknown as FakePageGlobal).__fakeWa;
      return new Function('api', `return (${run})(api)`)(api) as R;
    }, action.toString()) as Promise<Awaited<R>>;
  }

  async function status(sessionId: string): Promise<{ status: string; error: string | null; me: unknown }> {
    return (await t.request<{ status: string; error: string | null; me: unknown }>('GET', `/whatsapp-web/session/${sessionId}`)).body;
  }

  async function readyAfterScan(sessionId: string): Promise<EventLog> {
    expect((await t.request('POST', `/whatsapp-web/session/${sessionId}/start`)).status).toBe(201);
    const socket = await t.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId })).toEqual({ ok: true });
    await log.waitFor('qr');
    await page(sessionId, (api) => api.scan());
    await waitFor(async () => (await status(sessionId)).status === 'ready', `${sessionId} ready`, 20_000);
    return log;
  }

  it('goes qr, authenticated, ready, then syncs with the exact events and rows; a hanging chat fails alone', async () => {
    const log = await readyAfterScan('real');
    const [qr] = log.of<{ qr: string; dataUrl: string }>('qr');
    expect(qr.dataUrl).toMatch(/^data:image\/png;base64,/);
    expect(qr.qr.split(',')).toHaveLength(5);
    expect(log.of('session_status').map((e) => e.status)).toEqual(['qr', 'authenticated', 'ready']);
    expect((await status('real')).me).toEqual({ id: '5511888880000@c.us', pushName: 'Shop' });

    const answer = await t.request('POST', '/whatsapp-web/session/real/sync-chats?limitPerChat=10');
    await log.waitFor('sync_chats_done');

    expect(answer.body).toMatchObject({ success: true, chatsProcessed: 3, chatsFailed: 1, messagesSynced: 6 });
    expect(log.of('sync_chats')).toEqual([
      { sessionId: 'real', nChats: 3, currentChat: 0, messagesSynced: 0 },
      { sessionId: 'real', nChats: 3, currentChat: 1, chatId: ALICE, messagesSynced: 0 },
      { sessionId: 'real', nChats: 3, currentChat: 1, chatId: ALICE, messagesSynced: 3 },
      { sessionId: 'real', nChats: 3, currentChat: 2, chatId: GROUP, messagesSynced: 0 },
      { sessionId: 'real', nChats: 3, currentChat: 2, chatId: GROUP, messagesSynced: 3 },
      { sessionId: 'real', nChats: 3, currentChat: 3, chatId: STUCK, messagesSynced: 0 },
      { sessionId: 'real', nChats: 3, currentChat: 3, chatId: STUCK, messagesSynced: 0, error: `fetchMessages ${STUCK} timed out after ${CALL_TIMEOUT_MS} ms` },
    ]);
    expect(await t.db.query('SELECT wa_id, name, is_group, unread_count, timestamp FROM chats WHERE session_id = $1 ORDER BY timestamp DESC', ['real'])).toEqual([
      { wa_id: ALICE, name: 'Alice', is_group: false, unread_count: 1, timestamp: String(T) },
      { wa_id: GROUP, name: 'Team Sales', is_group: true, unread_count: 0, timestamp: String(T - 600) },
      { wa_id: STUCK, name: 'Bob', is_group: false, unread_count: 0, timestamp: String(T - 3600) },
    ]);
    const [group] = await t.db.query<{ participants: unknown }>(`SELECT raw->'participants' AS participants FROM chats WHERE session_id = 'real' AND wa_id = $1`, [GROUP]);
    expect(group.participants).toEqual([
      { id: '5511911110000@c.us', isAdmin: false, isSuperAdmin: false },
      { id: '5511922220000@c.us', isAdmin: false, isSuperAdmin: false },
    ]);
    expect(
      await t.db.query(
        `SELECT wa_id, chat_id, from_me, author, body, type, timestamp, has_media, ack, (raw->>'hasQuotedMsg')::boolean AS quoted
         FROM messages WHERE session_id = 'real' ORDER BY chat_id, timestamp`,
      ),
    ).toEqual([
      { wa_id: `false_${GROUP}_3EB0G1_5511911110000@c.us`, chat_id: GROUP, from_me: false, author: '5511911110000@c.us', body: 'numbers are in', type: 'chat', timestamp: String(T - 900), has_media: false, ack: 0, quoted: false },
      { wa_id: `false_${GROUP}_3EB0G2_5511922220000@c.us`, chat_id: GROUP, from_me: false, author: '5511922220000@c.us', body: 'great 🎉', type: 'chat', timestamp: String(T - 700), has_media: false, ack: 0, quoted: false },
      // In a group the library gives your own messages your id as author, as WhatsApp does.
      { wa_id: `true_${GROUP}_3EB0G3`, chat_id: GROUP, from_me: true, author: '5511888880000@c.us', body: 'thanks all', type: 'chat', timestamp: String(T - 600), has_media: false, ack: 2, quoted: false },
      { wa_id: `false_${ALICE}_3EB0A1`, chat_id: ALICE, from_me: false, author: null, body: 'hi, is the stand open?', type: 'chat', timestamp: String(T - 120), has_media: false, ack: 0, quoted: false },
      { wa_id: `true_${ALICE}_3EB0A2`, chat_id: ALICE, from_me: true, author: null, body: 'yes, until 6pm', type: 'chat', timestamp: String(T - 60), has_media: false, ack: 3, quoted: true },
      { wa_id: `false_${ALICE}_3EB0A3`, chat_id: ALICE, from_me: false, author: null, body: 'this one?', type: 'image', timestamp: String(T), has_media: true, ack: 0, quoted: false },
    ]);
  });

  it('stores and emits a live message, then each change of it (ack, edit, reaction, deletion) as message_update', async () => {
    const socket = await t.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId: 'real' })).toEqual({ ok: true });
    const live = { chatId: ALICE, id: `true_${ALICE}_3EB0L1`, fromMe: true, body: 'sent from the phone', timestamp: T + 60, ack: 1 };
    const view = {
      id: live.id, chatId: ALICE, fromMe: true, author: null, body: live.body, type: 'chat', timestamp: live.timestamp, hasMedia: false, ack: 1,
      editedAt: null as number | null, revoked: false, revokedAt: null as number | null, reactions: [] as unknown[], media: null,
    };

    await page('real', (api) => api.receiveMessage({ chatId: '5511999990001@c.us', id: 'true_5511999990001@c.us_3EB0L1', fromMe: true, body: 'sent from the phone', timestamp: 1764150060, ack: 1 }));
    await log.waitFor('message');
    expect(log.of('message')).toEqual([
      { sessionId: 'real', message: { ...view, body: live.body, ack: 1 } },
    ]);
    expect(await t.db.query(`SELECT body, ack FROM messages WHERE session_id = 'real' AND wa_id = $1`, [live.id])).toEqual([{ body: live.body, ack: 1 }]);

    await page('real', (api) => api.setAck('true_5511999990001@c.us_3EB0L1', 3));
    await log.waitFor('message_update');
    await page('real', (api) => api.editMessage('true_5511999990001@c.us_3EB0L1', 'sent from the phone, edited', 1764150090500));
    await log.waitFor('message_update', 2);
    await page('real', (api) => api.react('true_5511999990001@c.us_3EB0L1', '5511999990001@c.us', '👍', 1764150100000));
    await log.waitFor('message_update', 3);
    await page('real', (api) => api.revokeMessage('true_5511999990001@c.us_3EB0L1'));
    await log.waitFor('message_update', 4);

    const edited = { ...view, body: 'sent from the phone, edited', ack: 3, editedAt: 1764150090 };
    const reactions = [{ senderId: ALICE, emoji: '👍', timestamp: 1764150100 }];
    const updates = log.of<{ message: typeof view }>('message_update');
    expect(updates).toEqual([
      { sessionId: 'real', message: { ...view, body: live.body, ack: 3 } },
      { sessionId: 'real', message: edited },
      { sessionId: 'real', message: { ...edited, reactions } },
      { sessionId: 'real', message: { ...edited, reactions, body: '', revoked: true, revokedAt: expect.any(Number) } },
    ]);
    expect(
      await t.db.query(`SELECT body, type, ack, edited_at::int, revoked, raw ? 'body' AS raw_body FROM messages WHERE session_id = 'real' AND wa_id = $1`, [live.id]),
    ).toEqual([{ body: '', type: 'chat', ack: 3, edited_at: 1764150090, revoked: true, raw_body: false }]);
  });

  it('starts again after a stop without a new QR (LocalAuth), and closes its browser on stop', async () => {
    expect((await t.request('POST', '/whatsapp-web/session/real/stop')).body).toMatchObject({ sessionId: 'real', status: 'stopped' });
    await waitFor(() => chromiumProcesses(join(dataDir, 'session-real')).length === 0, 'browser of real closed', 15_000);
    const socket = await t.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId: 'real' })).toEqual({ ok: true });

    expect((await t.request('POST', '/whatsapp-web/session/real/start')).status).toBe(201);
    await waitFor(async () => (await status('real')).status === 'ready', 'ready again', 20_000);
    expect(log.of('qr')).toEqual([]);
    expect(log.of('session_status').map((e) => e.status)).not.toContain('qr');
  });

  it('ends in disconnected when the phone logs out, and forgets the login', async () => {
    const log = await readyAfterScan('phone-out');
    expect(existsSync(join(dataDir, 'session-phone-out'))).toBe(true);

    await page('phone-out', (api) => api.logoutFromPhone());
    await waitFor(async () => (await status('phone-out')).status === 'disconnected', 'disconnected', 20_000);

    expect(await status('phone-out')).toMatchObject({ status: 'disconnected', error: 'LOGOUT: logged out from the phone' });
    expect(log.of('session_status').at(-1)).toEqual({ sessionId: 'phone-out', status: 'disconnected', error: 'LOGOUT: logged out from the phone' });
    await waitFor(() => !existsSync(join(dataDir, 'session-phone-out')), 'login deleted');
    await waitFor(() => chromiumProcesses(join(dataDir, 'session-phone-out')).length === 0, 'browser closed', 15_000);
  });

  it('DELETE logs out, forgets the login and the session', async () => {
    await readyAfterScan('removed');
    expect((await t.request('DELETE', '/whatsapp-web/session/removed')).body).toEqual({ sessionId: 'removed', deleted: true, purged: false });
    expect((await t.request('GET', '/whatsapp-web/session/removed')).status).toBe(404);
    expect(existsSync(join(dataDir, 'session-removed'))).toBe(false);
    await waitFor(() => chromiumProcesses(join(dataDir, 'session-removed')).length === 0, 'browser closed', 15_000);
  });
});
