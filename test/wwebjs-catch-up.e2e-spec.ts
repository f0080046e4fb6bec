import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_WEB_VERSION, FakeChat, FakePageGlobal, FakeWaApi, writeFakePage } from './fixtures/fake-whatsapp-web/fake-page';
import { seedAccount } from './support/accounts';
import { WwebjsTestClientFactory } from './support/client-factories';
import { chromiumProcesses } from './support/processes';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * The automatic catch-up after a restart of the service, end to end on whatsapp-web.js: the real
 * service, the unmodified library in headless Chromium, the fake WhatsApp Web page. The account
 * changes while the service is down; the second start restores the login from its LocalAuth profile
 * (RESTORE_SESSIONS), WhatsApp's offline delivery is still under way when the library emits `ready`,
 * and the catch-up run (SYNC_ON_READY=incremental) starts only once that delivery is at 100%.
 */
const T = 1_764_150_000;
const ALICE = '5511999990001@c.us';
const GROUP = '120363000000000002@g.us';
const BOB = '5511999990003@c.us';
const DAVE = '5511999990004@c.us';
const CAROL = '5511999990005@c.us';
const ANA = '5511911110000@c.us';
const RUI = '5511922220000@c.us';

const me = { user: '5511888880000', pushName: 'Shop' };

const before: FakeChat[] = [
  {
    id: ALICE,
    name: 'Alice',
    messages: [
      { id: `false_${ALICE}_3EB0A1`, fromMe: false, body: 'is the stand open?', timestamp: T - 300 },
      { id: `true_${ALICE}_3EB0A2`, fromMe: true, body: 'until 6pm', timestamp: T - 240 },
    ],
  },
  {
    id: GROUP,
    name: 'Team',
    participants: [ANA, RUI],
    messages: [
      { id: `false_${GROUP}_3EB0G1_${ANA}`, fromMe: false, author: ANA, body: 'numbers are in', timestamp: T - 600 },
      { id: `true_${GROUP}_3EB0G2`, fromMe: true, body: 'thanks', timestamp: T - 500 },
    ],
  },
  { id: BOB, name: 'Bob', messages: [{ id: `false_${BOB}_3EB0B1`, fromMe: false, body: 'see you', timestamp: T - 900 }] },
  { id: DAVE, name: 'Dave', messages: [{ id: `false_${DAVE}_3EB0D1`, fromMe: false, body: 'ok', timestamp: T - 1200 }] },
  { id: CAROL, name: 'Carol', messages: [{ id: `false_${CAROL}_3EB0C1`, fromMe: false, body: 'bye', timestamp: T - 1500 }] },
];

/** While the service is down: two messages to Alice, one in the group, Dave's chat moved (no new message), Carol as she was. */
const after: FakeChat[] = [
  {
    ...before[0],
    messages: [
      ...before[0].messages,
      { id: `false_${ALICE}_3EB0A3`, fromMe: false, body: 'and tomorrow?', timestamp: T + 60 },
      { id: `true_${ALICE}_3EB0A4`, fromMe: true, body: 'from 9am', timestamp: T + 120 },
    ],
  },
  { ...before[1], messages: [...before[1].messages, { id: `false_${GROUP}_3EB0G3_${RUI}`, fromMe: false, author: RUI, body: 'and the totals?', timestamp: T + 30 }] },
  before[2],
  { ...before[3], timestamp: T + 10 },
  before[4],
];

/** Queued for this device while it was away, delivered after the library's `ready` (WhatsApp's offline delivery). */
const OFFLINE = { chatId: BOB, id: `false_${BOB}_3EB0B2`, fromMe: false, body: 'sent while you were away', timestamp: T + 90 };

describe('catch-up after a restart of the service, through whatsapp-web.js', () => {
  const root = mkdtempSync(join(tmpdir(), 'wa-wwebjs-catch-up-'));
  const web = join(root, 'web');
  const dataDir = join(root, 'logins');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    await waitFor(() => chromiumProcesses(root).length === 0, 'every browser closed', 15_000);
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  });

  /** The service with WA_PROVIDER=wwebjs on the fake page, on the test's database and login folder. */
  async function startService(env: Record<string, string> = {}) {
    let factory: WwebjsTestClientFactory | undefined;
    const app = await TestApp.start({
      account: seedAccount(),
      database: db,
      env: { WA_PROVIDER: 'wwebjs', WWEBJS_WEB_VERSION: FAKE_WEB_VERSION, WWEBJS_WEB_CACHE: `local:${web}`, WWEBJS_DATA_DIR: dataDir, ...env },
      clientFactory: (config) => (factory = new WwebjsTestClientFactory(config.wwebjs, undefined)),
    });
    return { app, factory: () => factory! };
  }

  async function page<R>(factory: WwebjsTestClientFactory, sessionId: string, action: (api: FakeWaApi) => R): Promise<Awaited<R>> {
    const pupPage = factory.libraryClientOf(sessionId)?.pupPage;
    if (!pupPage) throw new Error(`no page for ${sessionId}`);
    return pupPage.evaluate((run) => {
      const api = (globalThis as unknown as FakePageGlobal).__fakeWa;
      return new Function('api', `return (${run})(api)`)(api) as R;
    }, action.toString()) as Promise<Awaited<R>>;
  }

  const status = async (app: TestApp) => (await app.request<{ status: string }>('GET', '/whatsapp-web/session/shop')).body.status;
  const storedMessages = () =>
    db.query(`SELECT wa_id, chat_id, author, body, timestamp::int FROM messages WHERE session_id = 'shop' ORDER BY chat_id, timestamp, wa_id`);
  const storedChats = () => db.query(`SELECT wa_id, timestamp::int, unread_count FROM chats WHERE session_id = 'shop' ORDER BY wa_id`);
  const runs = () =>
    db.query(
      `SELECT status, mode, trigger, limit_per_chat, n_chats, chats_failed, chats_skipped, chats_with_gap, messages_inserted::int
       FROM sync_runs WHERE session_id = 'shop' ORDER BY started_at`,
    );

  it('stores what arrived while it was down, with no API call, once the offline delivery is over; unchanged chats skipped', async () => {
    // First start: a login with a scan, then a manual full sync (the automatic catch-up is off).
    writeFakePage(web, { me, chats: before });
    const first = await startService();
    try {
      expect((await first.app.request('POST', '/whatsapp-web/session/shop/start')).status).toBe(201);
      await waitFor(async () => (await status(first.app)) === 'qr', 'qr', 20_000);
      await page(first.factory(), 'shop', (api) => api.scan());
      await waitFor(async () => (await status(first.app)) === 'ready', 'ready', 20_000);
      const answer = await first.app.request('POST', '/whatsapp-web/session/shop/sync-chats?limitPerChat=50');
      expect(answer.body).toMatchObject({ success: true, mode: 'full', chatsProcessed: 5, chatsFailed: 0, messagesSynced: 7, messagesInserted: 7 });
    } finally {
      await first.app.close();
    }
    await waitFor(() => chromiumProcesses(root).length === 0, 'the first browser closed', 15_000);
    expect(await runs()).toEqual([
      { status: 'done', mode: 'full', trigger: 'api', limit_per_chat: 50, n_chats: 5, chats_failed: 0, chats_skipped: 0, chats_with_gap: 0, messages_inserted: 7 },
    ]);

    // While the service is down the account changes, and a message waits in WhatsApp's offline queue.
    writeFakePage(web, { me, chats: after, offlineDelivery: { progress: 40, messages: [OFFLINE] } });

    // Second start on the same database and login folder: the session is restored at boot.
    const second = await startService({ SYNC_ON_READY: 'incremental', SYNC_ON_READY_LIMIT: '50' });
    try {
      const socket = await second.app.socket();
      const log = new EventLog(socket);
      expect(await emitWithAck(socket, 'join-session', { sessionId: 'shop' })).toEqual({ ok: true });

      // The library emits `ready` while the delivery is at 40%: the service holds its own `ready`, so no run starts.
      await waitFor(() => second.factory().libraryEventsOf('shop').includes('ready'), 'the library to emit ready', 30_000);
      expect(second.factory().libraryEventsOf('shop')).toEqual(['loading_screen 40', 'ready']);
      expect(await status(second.app)).toBe('authenticated');
      expect(log.of('sync_chats')).toEqual([]);
      expect(await runs()).toHaveLength(1);

      // The delivery ends (its message as WhatsApp bulk-loads it: no `message` event); then the status, then the run.
      await page(second.factory(), 'shop', (api) => api.deliverOffline());
      await waitFor(() => log.of('sync_chats_done').length === 1, 'the catch-up run to finish', 20_000);
      expect(second.factory().libraryEventsOf('shop')).toEqual(['loading_screen 40', 'ready', 'loading_screen 100']);

      const statuses = log.of('session_status').map((e) => e.status);
      expect(statuses.at(-1)).toBe('ready');
      expect(statuses.filter((s) => s === 'ready')).toEqual(['ready']);
      expect(statuses).not.toContain('qr');
      const names = log.events.map((e) => e.event);
      expect(names.indexOf('sync_chats')).toBeGreaterThan(names.lastIndexOf('session_status'));
      expect(log.of('message')).toEqual([]);

      // In the order WhatsApp Web lists the chats (the page's, by timestamp at its sync: Bob's moved later).
      // Carol's chat is skipped (not fetched); Dave's moved, so it is fetched and has nothing new.
      expect(log.of('sync_chats')).toEqual([
        { sessionId: 'shop', nChats: 4, currentChat: 0, messagesSynced: 0 },
        { sessionId: 'shop', nChats: 4, currentChat: 1, chatId: ALICE, messagesSynced: 0 },
        { sessionId: 'shop', nChats: 4, currentChat: 1, chatId: ALICE, messagesSynced: 4 },
        { sessionId: 'shop', nChats: 4, currentChat: 2, chatId: GROUP, messagesSynced: 0 },
        { sessionId: 'shop', nChats: 4, currentChat: 2, chatId: GROUP, messagesSynced: 3 },
        { sessionId: 'shop', nChats: 4, currentChat: 3, chatId: DAVE, messagesSynced: 0 },
        { sessionId: 'shop', nChats: 4, currentChat: 3, chatId: DAVE, messagesSynced: 1 },
        { sessionId: 'shop', nChats: 4, currentChat: 4, chatId: BOB, messagesSynced: 0 },
        { sessionId: 'shop', nChats: 4, currentChat: 4, chatId: BOB, messagesSynced: 2 },
      ]);
      const [done] = log.of<{ syncId: string }>('sync_chats_done');
      expect(done).toEqual({
        sessionId: 'shop',
        syncId: expect.any(String),
        mode: 'incremental',
        chatsProcessed: 4,
        chatsFailed: 0,
        chatsSkipped: 1,
        chatsWithGap: 0,
        messagesSynced: 10,
        messagesInserted: 4,
        durationMs: expect.any(Number),
      });
      expect((await second.app.request('GET', '/whatsapp-web/session/shop/sync-chats/latest')).body).toMatchObject({
        syncId: done.syncId,
        status: 'done',
        mode: 'incremental',
        trigger: 'ready',
        limitPerChat: 50,
        nChats: 4,
        chatsSkipped: 1,
        chatsWithGap: 0,
        messagesInserted: 4,
      });
      expect(await runs()).toEqual([
        { status: 'done', mode: 'full', trigger: 'api', limit_per_chat: 50, n_chats: 5, chats_failed: 0, chats_skipped: 0, chats_with_gap: 0, messages_inserted: 7 },
        { status: 'done', mode: 'incremental', trigger: 'ready', limit_per_chat: 50, n_chats: 4, chats_failed: 0, chats_skipped: 1, chats_with_gap: 0, messages_inserted: 4 },
      ]);
      expect(await storedMessages()).toEqual([
        { wa_id: `false_${GROUP}_3EB0G1_${ANA}`, chat_id: GROUP, author: ANA, body: 'numbers are in', timestamp: T - 600 },
        { wa_id: `true_${GROUP}_3EB0G2`, chat_id: GROUP, author: `${me.user}@c.us`, body: 'thanks', timestamp: T - 500 },
        { wa_id: `false_${GROUP}_3EB0G3_${RUI}`, chat_id: GROUP, author: RUI, body: 'and the totals?', timestamp: T + 30 },
        { wa_id: `false_${ALICE}_3EB0A1`, chat_id: ALICE, author: null, body: 'is the stand open?', timestamp: T - 300 },
        { wa_id: `true_${ALICE}_3EB0A2`, chat_id: ALICE, author: null, body: 'until 6pm', timestamp: T - 240 },
        { wa_id: `false_${ALICE}_3EB0A3`, chat_id: ALICE, author: null, body: 'and tomorrow?', timestamp: T + 60 },
        { wa_id: `true_${ALICE}_3EB0A4`, chat_id: ALICE, author: null, body: 'from 9am', timestamp: T + 120 },
        { wa_id: `false_${BOB}_3EB0B1`, chat_id: BOB, author: null, body: 'see you', timestamp: T - 900 },
        { wa_id: OFFLINE.id, chat_id: BOB, author: null, body: 'sent while you were away', timestamp: T + 90 },
        { wa_id: `false_${DAVE}_3EB0D1`, chat_id: DAVE, author: null, body: 'ok', timestamp: T - 1200 },
        { wa_id: `false_${CAROL}_3EB0C1`, chat_id: CAROL, author: null, body: 'bye', timestamp: T - 1500 },
      ]);
      // Every chat row is upserted, the skipped one included: timestamps and unread counts as WhatsApp has them now.
      expect(await storedChats()).toEqual([
        { wa_id: GROUP, timestamp: T + 30, unread_count: 0 },
        { wa_id: ALICE, timestamp: T + 120, unread_count: 0 },
        { wa_id: BOB, timestamp: T + 90, unread_count: 1 },
        { wa_id: DAVE, timestamp: T + 10, unread_count: 0 },
        { wa_id: CAROL, timestamp: T - 1500, unread_count: 0 },
      ]);
    } finally {
      await second.app.close();
    }
  });
});
