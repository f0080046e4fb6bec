import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { demoAccount } from '../src/whatsapp/client/simulated/demo-account';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/** Debian's Chromium (`apt-get install chromium`); `CHROME_PATH` points elsewhere. */
const CHROMIUM = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-artifacts');

describe('dashboard page in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // The phone scans when the test says so: a timed scan could make 'qr' pass before a slow page shows it.
    // Its live traffic too: the test reports the changes it checks itself.
    t = await TestApp.start({ account: demoAccount({ scanAfterMs: 600_000, fetchLatencyMs: 5, liveAfterMs: 600_000 }) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('loading the page asks for nothing the service does not have: no 404 (the icon included), no console error', async () => {
    const answers: Array<{ url: string; status: number }> = [];
    const record = (request: IncomingMessage, response: ServerResponse) => response.once('finish', () => answers.push({ url: request.url ?? '', status: response.statusCode }));
    const server = t.app.getHttpServer() as Server;
    server.on('request', record);
    const fresh = await browser.newPage();
    const consoleErrors: string[] = [];
    fresh.on('console', (message) => message.type() === 'error' && consoleErrors.push(message.text()));
    try {
      await fresh.goto(`${t.baseUrl}/`);
      // Browsers fetch the page's icon after the page, /favicon.ico when the page names none.
      await waitFor(() => answers.some((answer) => /icon/.test(answer.url)), 'the icon to be requested');
      await fresh.locator('#sessions').waitFor({ state: 'attached' });
      expect(answers.filter((answer) => answer.status >= 400)).toEqual([]);
      expect(answers.filter((answer) => /icon/.test(answer.url))).toEqual([{ url: '/favicon.svg', status: 200 }]);
      expect(consoleErrors).toEqual([]);
    } finally {
      server.off('request', record);
      await fresh.close();
    }
  });

  it('starts a session, shows the QR, syncs with a live progress bar and lists the chats', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${t.baseUrl}/`);

    await page.fill('#new-session', 'browser');
    await page.click('#start-button');
    await page.locator('#status', { hasText: 'qr' }).waitFor();
    await page.locator('#qr[src^="data:image/png;base64,"]').waitFor();
    t.whatsapp.clientOf('browser')!.scan();
    await page.locator('#status', { hasText: 'ready' }).waitFor();

    await page.fill('#limit', '40');
    await page.click('#sync-button');
    await page.locator('#summary:not([hidden])').waitFor();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-synced.png'), fullPage: true });

    expect(await page.locator('#progress-percent').textContent()).toBe('100%');
    expect(await page.locator('#progress').evaluate((el) => (el as unknown as { value: number }).value)).toBe(1);
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 36 chats and \d+ messages in \d+\.\d s$/);
    await page.locator('#chats li').nth(35).waitFor();
    expect(await page.locator('#chats li').count()).toBe(36);
    const [{ n }] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM chats WHERE session_id = $1', ['browser']);
    expect(n).toBe(36);

    await page.locator('#chats li').first().click();
    await page.locator('#messages li').first().waitFor();
    expect(await page.locator('#messages li').count()).toBe(30);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-chat.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows edits, deletions and reactions of the open chat as their message_update arrives', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const items = page.locator('#messages li');
    const [newest, second] = [await items.nth(0).getAttribute('data-id'), await items.nth(1).getAttribute('data-id')];
    const [{ chat_id: chatId }] = await t.db.query<{ chat_id: string }>('SELECT chat_id FROM messages WHERE session_id = $1 AND wa_id = $2', ['browser', newest]);
    t.whatsapp.clientOf('browser')!.report((l) => {
      l.onMessageEdit({ messageId: newest!, chatId, body: 'edited in the browser test', editedAt: 1_764_160_000 });
      l.onMessageReaction({ messageId: newest!, chatId, senderId: '1@c.us', emoji: '👍', timestamp: 1_764_160_001 });
      l.onMessageReaction({ messageId: newest!, chatId, senderId: '2@c.us', emoji: '👍', timestamp: 1_764_160_002 });
      l.onMessageRevoke({ messageId: second!, chatId, revokedAt: 1_764_160_003 });
    });
    await page.locator('#messages li', { hasText: '👍 2' }).waitFor();
    await page.locator('#messages li .deleted').waitFor();
    expect(await items.nth(0).locator('.edited').textContent()).toBe(' · edited');
    expect(await items.nth(0).textContent()).toContain('edited in the browser test');
    expect(await items.nth(0).locator('.reactions span').getAttribute('title')).toBe('1@c.us, 2@c.us');
    expect(await items.nth(1).locator('.deleted').textContent()).toBe('🚫 This message was deleted');
    expect(await items.count()).toBe(30);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-changes.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
