import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessagePage } from '../src/whatsapp/chats/chat.view';
import type { MediaView } from '../src/media/media.types';
import { FAKE_WEB_VERSION, FakeChat, FakePageGlobal, writeFakePage } from './fixtures/fake-whatsapp-web/fake-page';
import { seedAccount } from './support/accounts';
import { WwebjsTestClientFactory } from './support/client-factories';
import { bytesOf, sha256 } from './support/media-fixtures';
import { chromiumProcesses } from './support/processes';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Media through the unmodified whatsapp-web.js in headless Chromium, on the fake WhatsApp Web page:
 * the library's own `getMessageById` and `message.downloadMedia()` get real bytes from the page, a
 * failing media server, and a file the phone no longer has.
 */
const T = 1_764_150_000;
const ALICE = '5511999990001@c.us';
const PHOTO = bytesOf(60_000, 21);
const ids = { photo: `false_${ALICE}_3EB0P1`, fail: `false_${ALICE}_3EB0P2`, gone: `false_${ALICE}_3EB0P3`, none: `false_${ALICE}_3EB0P4`, text: `false_${ALICE}_3EB0P5` };

const chats: FakeChat[] = [
  {
    id: ALICE,
    name: 'Alice',
    messages: [
      { id: ids.photo, fromMe: false, body: '', type: 'image', caption: 'the stand', timestamp: T - 500, media: { mimetype: 'image/jpeg', filename: 'stand.jpg', dataBase64: PHOTO.toString('base64') } },
      { id: ids.fail, fromMe: false, body: '', type: 'document', timestamp: T - 400, media: { mimetype: 'application/pdf', filename: 'prices.pdf', fail: true } },
      { id: ids.gone, fromMe: false, body: '', type: 'ptt', timestamp: T - 300, media: { expired: true } },
      { id: ids.none, fromMe: false, body: '', type: 'video', timestamp: T - 200 },
      { id: ids.text, fromMe: false, body: 'hello', timestamp: T - 100 },
    ],
  },
];

describe('media through whatsapp-web.js on the fake page', () => {
  const root = mkdtempSync(join(tmpdir(), 'wa-wwebjs-media-'));
  const web = join(root, 'web');
  let db: TestDatabase;
  let t: TestApp;
  let factory: WwebjsTestClientFactory | undefined;

  beforeAll(async () => {
    db = await TestDatabase.create();
    writeFakePage(web, { me: { user: '5511888880000', pushName: 'Shop' }, autoScanAfterMs: 0, chats });
    t = await TestApp.start({
      account: seedAccount(),
      database: db,
      env: { WA_PROVIDER: 'wwebjs', WWEBJS_WEB_VERSION: FAKE_WEB_VERSION, WWEBJS_WEB_CACHE: `local:${web}`, WWEBJS_DATA_DIR: join(root, 'logins'), MEDIA_DOWNLOAD: 'all', MEDIA_MAX_ATTEMPTS: '1' },
      clientFactory: (config) => (factory = new WwebjsTestClientFactory(config.wwebjs, undefined)),
    });
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await waitFor(() => chromiumProcesses(root).length === 0, 'every browser closed', 15_000);
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const mediaOf = async (id: string): Promise<MediaView | null | undefined> => {
    const page = await t.request<MessagePage>('GET', `/whatsapp-web/session/shop/chats/${ALICE}/messages`);
    return page.body.messages.find((m) => m.id === id)?.media;
  };
  const mediaPath = (id: string) => `/whatsapp-web/session/shop/chats/${ALICE}/messages/${encodeURIComponent(id)}/media`;

  it('downloads the bytes, a failure, and nothing for media the phone no longer has', async () => {
    await t.readySession('shop');
    expect((await t.request('POST', '/whatsapp-web/session/shop/sync-chats')).status).toBe(200);
    await waitFor(async () => {
      const rows = await db.query<{ status: string }>(`SELECT status FROM message_media WHERE session_id = 'shop'`);
      return rows.length === 4 && rows.every((r) => r.status !== 'pending');
    }, 'the four downloads settled', 30_000);
    expect(await mediaOf(ids.photo)).toEqual({ status: 'stored', mimetype: 'image/jpeg', filename: 'stand.jpg', size: PHOTO.length, sha256: sha256(PHOTO), error: null });
    expect(await mediaOf(ids.fail)).toMatchObject({ status: 'failed', mimetype: 'application/pdf', error: expect.stringContaining('fake WA: the media server failed') });
    expect(await mediaOf(ids.gone)).toMatchObject({ status: 'expired' });
    expect(await mediaOf(ids.none)).toMatchObject({ status: 'expired' });
    expect(await mediaOf(ids.text)).toBeNull();
    const served = await fetch(`${t.baseUrl}${mediaPath(ids.photo)}`);
    expect([served.status, served.headers.get('content-type'), served.headers.get('content-disposition')]).toEqual([200, 'image/jpeg', 'inline; filename="stand.jpg"']);
    expect(Buffer.from(await served.arrayBuffer()).equals(PHOTO)).toBe(true);
  }, 60_000);

  it('downloads the media of a live message as it arrives', async () => {
    const page = factory!.libraryClientOf('shop')!.pupPage!;
    const voice = bytesOf(9_000, 22).toString('base64');
    const id = `false_${ALICE}_3EB0LV1`;
    await page.evaluate(
      ([messageId, chatId, dataBase64]) => {
        const api = (globalThis as unknown as FakePageGlobal).__fakeWa;
        api.receiveMessage({ chatId, id: messageId, fromMe: false, body: '', type: 'ptt', timestamp: 1_764_150_100, media: { mimetype: 'audio/ogg; codecs=opus', dataBase64 } });
      },
      [id, ALICE, voice] as const,
    );
    await waitFor(async () => (await mediaOf(id))?.status === 'stored', 'the live voice note stored', 20_000);
    expect(await mediaOf(id)).toMatchObject({ mimetype: 'audio/ogg; codecs=opus', size: 9_000, sha256: sha256(bytesOf(9_000, 22)) });
  }, 30_000);

  it('finds a message the page has not loaded, through the library, and downloads it again', async () => {
    const page = factory!.libraryClientOf('shop')!.pupPage!;
    // Unloads every message model: what a page that has not scrolled to them holds.
    const unloaded = await page.evaluate(() => {
      const { Msg } = (globalThis as unknown as { require: (name: string) => { Msg: { getModelsArray(): unknown[]; remove(m: unknown): void } } }).require('WAWebCollections');
      const models = Msg.getModelsArray();
      for (const model of models) Msg.remove(model);
      return models.length;
    });
    expect(unloaded).toBeGreaterThan(0);
    expect((await t.request<MediaView>('POST', mediaPath(ids.photo))).body).toMatchObject({ status: 'stored', sha256: sha256(PHOTO) });
    expect((await t.request<MediaView>('POST', mediaPath(ids.fail))).body).toMatchObject({ status: 'failed', error: expect.stringContaining('fake WA: the media server failed') });
  }, 30_000);
});
