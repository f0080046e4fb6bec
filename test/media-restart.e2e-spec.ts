import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountFromSpec, SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { SimulatedTestClientFactory } from './support/client-factories';
import { bytesOf, mediaMessage, sha256, stored } from './support/media-fixtures';
import { ServiceProcess } from './support/service-process';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { gate, waitFor } from './support/wait';

/**
 * The queue survives the process: what is pending at a stop, or in flight when the process is
 * killed, is downloaded by the next start, each file once.
 */
const C1 = 'chat1@c.us';
const FILES = [bytesOf(20_000, 11), bytesOf(30_000, 12), bytesOf(40_000, 13)];
const MESSAGES = FILES.map((file, n) => mediaMessage(C1, n + 1, stored(file, 'image/png', `f${n}.png`)));

function account(fetchLatencyMs = 0): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs, chats: [{ ...chat(C1, 1), messages: [...chat(C1, 1).messages, ...MESSAGES] }] };
}

type Row = { message_id: string; status: string; attempts: number; sha256: string | null; leased: boolean };

async function rows(db: TestDatabase): Promise<Row[]> {
  return db.query<Row>('SELECT message_id, status, attempts, sha256, leased_until IS NOT NULL AS leased FROM message_media ORDER BY message_id');
}

describe('the media queue across restarts', () => {
  it('a shutdown gives the download in flight back; the next start downloads everything pending', async () => {
    const db = await TestDatabase.create();
    const whatsapp = new SimulatedTestClientFactory(accountFromSpec(account()));
    const held = gate();
    let asked = 0;
    whatsapp.beforeDownload = async () => {
      asked++;
      await held.promise;
      return undefined;
    };
    const first = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env: { MEDIA_DOWNLOAD: 'all', MEDIA_DOWNLOAD_CONCURRENCY: '1' } });
    await first.readySession('s');
    expect((await first.request('POST', '/whatsapp-web/session/s/sync-chats')).status).toBe(200);
    await waitFor(() => asked === 1, 'the first download asked for');
    expect((await rows(db)).map((r) => [r.status, r.attempts, r.leased])).toEqual([
      ['pending', 1, true],
      ['pending', 0, false],
      ['pending', 0, false],
    ]);
    await first.close();
    // Given back untried: no lease, the attempt not counted.
    expect((await rows(db)).map((r) => [r.status, r.attempts, r.leased])).toEqual([
      ['pending', 0, false],
      ['pending', 0, false],
      ['pending', 0, false],
    ]);
    held.open();
    whatsapp.beforeDownload = undefined;

    const second = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env: { MEDIA_DOWNLOAD: 'all' } });
    try {
      await waitFor(async () => (await rows(db)).every((r) => r.status === 'stored'), 'every download stored after the restart');
      expect((await rows(db)).map((r) => [r.message_id, r.attempts, r.sha256])).toEqual(MESSAGES.map((m, n) => [m.id, 1, sha256(FILES[n])]));
    } finally {
      await second.close();
      await db.drop();
    }
  }, 60_000);

  it('a process killed (SIGKILL) mid-download: its lease runs out and the next start downloads the file', async () => {
    const db = await TestDatabase.create();
    const dir = mkdtempSync(join(tmpdir(), 'wa-media-kill-'));
    const accountFile = join(dir, 'account.json');
    // Each call into the simulated phone takes 1.5 s: the first download is in flight long enough to be killed in.
    writeFileSync(accountFile, JSON.stringify({ ...account(1500), chats: [{ ...account().chats[0], messages: [...chat(C1, 1).messages, MESSAGES[0]] }] }));
    const env = { WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: accountFile, DATABASE_URL: db.url, MEDIA_DOWNLOAD: 'all', MEDIA_LEASE_MS: '1000', SYNC_ON_READY: 'full' };
    const first = await ServiceProcess.start(env);
    let second: (ServiceProcess & { baseUrl: string }) | undefined;
    try {
      expect((await fetch(`${first.baseUrl}/whatsapp-web/session/k/start`, { method: 'POST' })).status).toBe(201);
      await waitFor(async () => (await rows(db)).some((r) => r.leased && r.attempts === 1), 'a download in flight', 20_000);
      expect((await first.stop('SIGKILL')).signal).toBe('SIGKILL');
      expect((await rows(db)).map((r) => [r.status, r.attempts, r.leased])).toEqual([['pending', 1, true]]);

      second = await ServiceProcess.start(env);
      await waitFor(async () => (await rows(db))[0]?.status === 'stored', 'the download stored by the next start', 30_000);
      expect((await rows(db)).map((r) => [r.status, r.attempts, r.sha256])).toEqual([['stored', 2, sha256(FILES[0])]]);
      const served = await fetch(`${second.baseUrl}/whatsapp-web/session/k/chats/${C1}/messages/${encodeURIComponent(MESSAGES[0].id)}/media`);
      expect(Buffer.from(await served.arrayBuffer()).equals(FILES[0])).toBe(true);
    } finally {
      first.kill();
      if (second) await second.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  }, 90_000);
});
