import { Browser, Page, chromium } from 'playwright-core';
import type { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { bytesOf, mediaMessage, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * The dashboard's media, in a real browser, with an API key (so the files come as blob: URLs of
 * bytes fetched with it): an image inline, an audio player, a download link, a failed download with
 * its retry button.
 */
const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
const C1 = 'chat1@c.us';
const IMAGE = mediaMessage(C1, 1, stored(PNG, 'image/png', 'dot.png'));
const VOICE = mediaMessage(C1, 2, stored(bytesOf(2000, 5), 'audio/ogg; codecs=opus'));
const DOC = mediaMessage(C1, 3, stored(bytesOf(3000, 6), 'application/pdf', 'prices.pdf'));
const LATER = mediaMessage(C1, 4, stored(PNG, 'image/png', 'later.png'));

function account(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [{ ...chat(C1, 1, { name: 'Alice' }), messages: [...chat(C1, 1).messages, IMAGE, VOICE, DOC, LATER] }] };
}

describe('dashboard: media', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let serverDown = true;

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { API_KEY: 'k', MEDIA_DOWNLOAD: 'all', MEDIA_MAX_ATTEMPTS: '1' } });
    // LATER's download fails until the test lets it through.
    t.whatsapp.beforeDownload = (_sessionId, messageId) => {
      if (messageId === LATER.id && serverDown) throw new Error('media server unreachable');
      return undefined;
    };
    const headers = { 'x-api-key': 'k' };
    expect((await t.request('POST', '/whatsapp-web/session/shop/start', { headers })).status).toBe(201);
    await waitFor(async () => (await t.request<{ status: string }>('GET', '/whatsapp-web/session/shop', { headers })).body.status === 'ready', 'ready');
    expect((await t.request('POST', '/whatsapp-web/session/shop/sync-chats', { headers })).status).toBe(200);
    await waitFor(async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_media WHERE status <> 'pending'`))[0].n === 4, 'downloads settled');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
    page = await browser.newPage();
    await page.addInitScript("localStorage.setItem('apiKey', 'k')");
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the image, an audio player, a download link, and a failed download that its retry button stores', async () => {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && !message.text().startsWith('Failed to load resource') && problems.push(message.text()));
    // The session has no webhook of its own: that GET is the one 404 the dashboard expects.
    page.on('response', (response) => response.status() >= 400 && !response.url().endsWith('/session/shop/webhook') && problems.push(`${response.status()} ${response.url()}`));
    await page.goto(`${t.baseUrl}/`);
    await page.locator('#sessions li', { hasText: 'shop' }).click();
    await page.locator('#chats li', { hasText: 'Alice' }).click();
    const item = (id: string) => page.locator(`#messages li[data-id="${id}"]`);

    await waitFor(() => item(IMAGE.id).locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 2), 'the image shown');
    expect(await item(IMAGE.id).locator('img').getAttribute('src')).toMatch(/^blob:/);
    await item(VOICE.id).locator('audio[src^="blob:"]').waitFor();
    const link = item(DOC.id).locator('a[href^="blob:"]');
    await link.waitFor();
    expect([await link.textContent(), await link.getAttribute('download')]).toEqual(['⬇ prices.pdf (3 KB)', 'prices.pdf']);

    const failed = item(LATER.id);
    expect(await failed.locator('.media-status').textContent()).toBe('📎 image/png · failed');
    expect(await failed.locator('.media-status').getAttribute('title')).toBe('download failed: media server unreachable (attempt 1 of 1)');
    serverDown = false;
    await failed.locator('button.media-retry').click();
    await waitFor(() => item(LATER.id).locator('img').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth === 2), 'the retried image shown');
    expect(problems).toEqual([]);
  });
});
