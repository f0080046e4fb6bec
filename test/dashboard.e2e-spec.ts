import { mkdirSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { SimulatedAccountSpec, SimulatedChatSpec, accountFromSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { demoAccount } from '../src/whatsapp/client/simulated/demo-account';
import { chat, messagesFor, seedAccount } from './support/accounts';
import { TestApp } from './support/test-app';
import { gate, waitFor } from './support/wait';
import { WebhookReceiver, signatureValid } from './support/webhook-receiver';

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
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 36 chats and (\d+) messages \(\1 new\) in \d+\.\d s$/);
    expect(await page.locator('#run-kind').textContent()).toBe('Manual sync (api) · full · done');
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

describe('dashboard: the automatic catch-up as it happens', () => {
  const BASE = 1_764_150_000;
  const ids = ['1000@c.us', '1001@c.us', '1002@c.us'];
  const spec = (grownChat?: string): SimulatedAccountSpec => ({
    scanAfterMs: 600_000, // the test scans
    fetchLatencyMs: 0,
    chats: ids.map((id, n): SimulatedChatSpec => {
      const last = BASE - n * 600 + (id === grownChat ? 3 * 60 : 0);
      const count = id === grownChat ? 13 : 10;
      return chat(id, count, { name: `Chat ${n}`, timestamp: last, messages: messagesFor(id, count, last) });
    }),
  });
  let t: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    t = await TestApp.start({ account: spec(), env: { SYNC_ON_READY: 'incremental', SYNC_ON_READY_LIMIT: '100' } });
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

  it('shows the run started by ready as a catch-up while it runs, then its summary; a manual run as manual', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${t.baseUrl}/`);
    await page.fill('#new-session', 'auto');
    await page.click('#start-button');
    await page.locator('#status', { hasText: 'qr' }).waitFor();

    // The catch-up is held at its first chat: the page shows it running, started by ready.
    const hold = gate();
    t.whatsapp.beforeFetch = () => hold.promise;
    t.whatsapp.clientOf('auto')!.scan();
    await page.locator('#run-kind', { hasText: 'Catch-up (ready) · incremental · running' }).waitFor();
    await page.locator('#progress-text', { hasText: 'Chat 1 of 3' }).waitFor();
    expect(await page.locator('#run-kind').getAttribute('data-trigger')).toBe('ready');
    expect(await page.locator('#progress-text').textContent()).toBe('Chat 1 of 3 · 1000@c.us · 0 messages');
    expect(await page.locator('#progress-percent').textContent()).toBe('33%');
    expect(await page.locator('#summary').isHidden()).toBe(true);
    expect(await page.locator('#qr-box').isHidden()).toBe(true);
    expect(await page.locator('#sync-button').isDisabled()).toBe(true);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-catch-up-running.png'), fullPage: true });
    hold.open();
    t.whatsapp.beforeFetch = undefined;

    await page.locator('#run-kind', { hasText: 'Catch-up (ready) · incremental · done' }).waitFor();
    await page.locator('#summary:not([hidden])').waitFor();
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 3 chats and 30 messages \(30 new\) in \d+\.\d s$/);
    expect(await page.locator('#progress-percent').textContent()).toBe('100%');
    await page.locator('#sync-button:not([disabled])').waitFor();

    // A page opened afterwards reads the last run from GET sync-chats/latest.
    await page.reload();
    await page.locator('#sessions li', { hasText: 'auto' }).click();
    await page.locator('#run-kind', { hasText: 'Catch-up (ready) · incremental · done' }).waitFor();
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 3 chats and 30 messages \(30 new\) in \d+\.\d s$/);

    await page.locator('#sync-button:not([disabled])').waitFor();
    await page.click('#sync-button');
    await page.locator('#run-kind', { hasText: 'Manual sync (api) · full · done' }).waitFor();
    expect(await page.locator('#run-kind').getAttribute('data-trigger')).toBe('api');
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 3 chats and 30 messages \(0 new\) in \d+\.\d s$/);
    expect(pageErrors).toEqual([]);
  });

  it('a start after a disconnect, new messages meanwhile: the catch-up shows its skipped chats and what was new', async () => {
    t.whatsapp.clientOf('auto')!.disconnect('phone offline');
    await page.locator('#status', { hasText: 'disconnected' }).waitFor();
    await page.locator('#error', { hasText: 'Session auto: phone offline' }).waitFor();
    t.whatsapp.account = accountFromSpec(spec('1001@c.us'));

    await page.fill('#new-session', 'auto');
    await page.click('#start-button');
    // The run's last sync_chats, then its sync_chats_done (the page stays in the session's room throughout).
    await page.locator('#progress-text', { hasText: '13 messages' }).waitFor();
    await page.locator('#summary:not([hidden])').waitFor();
    await page.locator('#run-kind', { hasText: 'Catch-up (ready) · incremental · done' }).waitFor();
    expect(await page.locator('#summary').textContent()).toMatch(/^Synchronized 1 chats and 13 messages \(3 new\) in \d+\.\d s — 2 unchanged chat\(s\) skipped$/);
    expect(await page.locator('#progress-text').textContent()).toBe('Chat 1 of 1 · 1001@c.us · 13 messages');
    expect(await page.locator('#error').isHidden()).toBe(true); // 'Session auto: phone offline' went with the disconnect
    expect(await t.db.query('SELECT trigger, mode, n_chats, chats_skipped FROM sync_runs WHERE session_id = $1 ORDER BY started_at', ['auto'])).toEqual([
      { trigger: 'ready', mode: 'incremental', n_chats: 3, chats_skipped: 0 },
      { trigger: 'api', mode: 'full', n_chats: 3, chats_skipped: 0 },
      { trigger: 'ready', mode: 'incremental', n_chats: 1, chats_skipped: 2 },
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-catch-up-done.png'), fullPage: true });
  });
});

describe('dashboard: a session\'s webhook and its recent deliveries', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  let browser: Browser;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    t = await TestApp.start({ account: seedAccount(), env: { WEBHOOK_MAX_ATTEMPTS: '1' } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await receiver?.close();
  });

  it('sets the webhook, lists a failed delivery with its answer, retries it until delivered, removes the webhook', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await t.readySession('hooks');
    await waitFor(async () => (await t.db.query("SELECT 1 FROM sessions WHERE session_id = 'hooks' AND status = 'ready'")).length === 1, 'ready stored');
    await page.goto(`${t.baseUrl}/`);
    await page.click('#sessions li[data-session-id="hooks"]');
    await page.click('#webhook-box summary');
    await page.locator('#webhook-target', { hasText: 'the global one (WEBHOOK_URL), if set' }).waitFor();

    await page.fill('#webhook-url', receiver.url('/dash'));
    await page.fill('#webhook-secret', 's3cret');
    await page.click('#webhook-save');
    await page.locator('#webhook-target', { hasText: '/dash' }).waitFor();
    expect(await page.locator('#webhook-target').textContent()).toBe(`→ ${receiver.url('/dash')} (message, message_update, session_status, sync_chats_done, sync_chats_failed, signed)`);
    expect(await t.db.query('SELECT url, secret FROM webhook_settings')).toEqual([{ url: receiver.url('/dash'), secret: 's3cret' }]);

    receiver.answer = () => 500;
    const spec = { id: 'false_chat1@c.us_3EB0DASH', fromMe: false, author: null, body: 'to the CRM', type: 'chat', timestamp: 1_764_150_100, hasMedia: false, ack: 0 };
    t.whatsapp.clientOf('hooks')!.receiveMessage({ ...spec, chatId: 'chat1@c.us', raw: { ...spec } });
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE status = 'failed'")).length === 1, 'the delivery failed');
    await page.click('#deliveries-refresh');
    const row = page.locator('#deliveries tbody tr').first();
    await row.locator('td', { hasText: 'failed' }).waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['message', 'failed', '1', 'answered 500', expect.any(String), 'Retry']);

    receiver.answer = () => 200;
    await row.locator('button', { hasText: 'Retry' }).click();
    await waitFor(async () => (await t.db.query("SELECT 1 FROM webhook_deliveries WHERE status = 'delivered'")).length === 1, 'delivered on retry');
    await page.click('#deliveries-refresh');
    await row.locator('td', { hasText: 'delivered' }).waitFor();
    expect(await row.locator('td').allTextContents()).toEqual(['message', 'delivered', '1', '200', expect.any(String), '']);
    const [delivered] = receiver.acknowledged('/dash');
    expect(signatureValid(delivered, 's3cret')).toBe(true);

    await page.click('#webhook-remove');
    await page.locator('#webhook-target', { hasText: 'the global one' }).waitFor();
    expect(await t.db.query('SELECT url FROM webhook_settings')).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-webhook.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
