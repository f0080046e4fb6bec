import { accountFromSpec, SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { SimulatedTestClientFactory } from './support/client-factories';
import { bytesOf, mediaMessage, sha256, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/**
 * Two instances on one database share the queue (SKIP LOCKED): each downloads for the session it
 * owns (a session runs on one instance at a time: its lease), both at once, each file once a session.
 */
const C1 = 'chat1@c.us';
const FILES = Array.from({ length: 16 }, (_, n) => bytesOf(1000 + n, 40 + n));
const MESSAGES = FILES.map((file, n) => mediaMessage(C1, n + 1, stored(file, 'image/png')));

function account(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [{ ...chat(C1, 1), messages: [...chat(C1, 1).messages, ...MESSAGES] }] };
}

describe('two instances, one media queue', () => {
  it('each instance downloads its own session\'s files, each exactly once, while both work', async () => {
    const db = await TestDatabase.create();
    const whatsapp = new SimulatedTestClientFactory(accountFromSpec(account()));
    const downloads = new Map<string, number>();
    let inFlight = 0;
    let mostAtOnce = 0;
    whatsapp.beforeDownload = async (sessionId, messageId) => {
      const first = downloads.size === 0;
      const key = `${sessionId}/${messageId}`;
      downloads.set(key, (downloads.get(key) ?? 0) + 1);
      mostAtOnce = Math.max(mostAtOnce, ++inFlight);
      // The first download is held until another runs beside it: with one worker an instance, only
      // the other instance can be running it.
      if (first) await waitFor(() => mostAtOnce === 2, 'a download of the other instance beside the first');
      inFlight--;
      return undefined;
    };
    const env = { MEDIA_DOWNLOAD: 'all', MEDIA_DOWNLOAD_CONCURRENCY: '1' };
    const a = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env: { ...env, INSTANCE_ID: 'A' } });
    const b = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env: { ...env, INSTANCE_ID: 'B' } });
    try {
      await a.readySession('s1');
      await b.readySession('s2');
      const syncs = await Promise.all([a.request('POST', '/whatsapp-web/session/s1/sync-chats'), b.request('POST', '/whatsapp-web/session/s2/sync-chats')]);
      expect(syncs.map((answer) => answer.status)).toEqual([200, 200]);
      await waitFor(async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_media WHERE status = 'stored'`))[0].n === 2 * FILES.length, 'every file stored', 20_000);
      expect([...downloads.values()].every((n) => n === 1)).toBe(true);
      expect(downloads.size).toBe(2 * FILES.length);
      expect(mostAtOnce).toBe(2);
      const rows = await db.query<{ session_id: string; message_id: string; sha256: string; attempts: number }>('SELECT session_id, message_id, sha256, attempts FROM message_media ORDER BY session_id, message_id');
      const expected = (sessionId: string) => MESSAGES.map((m, n) => ({ session_id: sessionId, message_id: m.id, sha256: sha256(FILES[n]), attempts: 1 }));
      expect(rows).toEqual([...expected('s1'), ...expected('s2')]);
      // Identical content is stored once, whichever session it came with.
      expect(await db.query<{ n: number }>('SELECT count(*)::int AS n FROM media_blobs')).toEqual([{ n: FILES.length }]);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  }, 60_000);
});
