import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WwebjsWhatsappClientFactory } from '../src/whatsapp/client/wwebjs/wwebjs-whatsapp.factory';
import { seedAccount } from './support/accounts';
import { chromiumProcesses } from './support/processes';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { waitFor } from './support/wait';

/** Without a reachable WhatsApp Web (no network here, no fake page), a session fails cleanly. */
describe('whatsapp-web.js provider without WhatsApp Web', () => {
  let t: TestApp;
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-nonet-'));

  beforeAll(async () => {
    t = await TestApp.start({
      account: seedAccount(),
      env: { WWEBJS_DATA_DIR: dataDir, WWEBJS_WEB_CACHE: 'none', WWEBJS_START_TIMEOUT_MS: '5000' },
      clientFactory: (config) => new WwebjsWhatsappClientFactory(config.wwebjs, undefined),
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('ends in failed with the reason, keeps serving, and leaves no Chromium running', async () => {
    const socket = await t.socket();
    const log = new EventLog(socket);
    const started = await t.request<{ status: string }>('POST', '/whatsapp-web/session/offline/start');
    expect(started.status).toBe(201);
    expect(await emitWithAck(socket, 'join-session', { sessionId: 'offline' })).toEqual({ ok: true });

    await waitFor(async () => (await t.request<{ status: string }>('GET', '/whatsapp-web/session/offline')).body.status === 'failed', 'failed', 60_000);
    const session = await t.request<{ status: string; error: string }>('GET', '/whatsapp-web/session/offline');
    expect(session.body.error).toMatch(/^WhatsApp Web did not start: /);
    expect(session.body.error.length).toBeGreaterThan('WhatsApp Web did not start: '.length);
    await log.waitFor('session_status');
    expect(log.of('session_status').at(-1)).toEqual({ sessionId: 'offline', status: 'failed', error: session.body.error });

    expect((await t.request('GET', '/health')).status).toBe(200);
    const sync = await t.request('POST', '/whatsapp-web/session/offline/sync-chats');
    expect(sync.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'Session offline is not ready (status: failed)' });
    await waitFor(() => chromiumProcesses(dataDir).length === 0, 'no Chromium left', 15_000);
  });
});
