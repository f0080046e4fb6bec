import { accountFromSpec, SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { SimulatedTestClientFactory } from './support/client-factories';
import { bytesOf, mediaMessage, sha256, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/** Two instances on one database share the queue (SKIP LOCKED): both download at once, each file once. */
const C1 = 'chat1@c.us';
const FILES = Array.from({ length: 16 }, (_, n) => bytesOf(1000 + n, 40 + n));
const MESSAGES = FILES.map((file, n) => mediaMessage(C1, n + 1, stored(file, 'image/png')));

function account(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [{ ...chat(C1, 1), messages: [...chat(C1, 1).messages, ...MESSAGES] }] };
}

describe('two instances, one media queue', () => {
  it('each file is downloaded by one of them, exactly once, while both work', async () => {
    const db = await TestDatabase.create();
    const whatsapp = new SimulatedTestClientFactory(accountFromSpec(account()));
    const downloads = new Map<string, number>();
    let inFlight = 0;
    let mostAtOnce = 0;
    whatsapp.beforeDownload = async (_sessionId, messageId) => {
      const first = downloads.size === 0;
      downloads.set(messageId, (downloads.get(messageId) ?? 0) + 1);
      mostAtOnce = Math.max(mostAtOnce, ++inFlight);
      // The first download is held until another runs beside it: with one worker an instance, only
      // the other instance can be running it.
      if (first) await waitFor(() => mostAtOnce === 2, 'a download of the other instance beside the first');
      inFlight--;
      return undefined;
    };
    const env = { MEDIA_DOWNLOAD: 'all', MEDIA_DOWNLOAD_CONCURRENCY: '1' };
    const a = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env });
    const b = await TestApp.start({ account: account(), database: db, clientFactory: () => whatsapp, env });
    try {
      await a.readySession('s');
      await b.readySession('s');
      expect((await a.request('POST', '/whatsapp-web/session/s/sync-chats')).status).toBe(200);
      await waitFor(async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_media WHERE status = 'stored'`))[0].n === FILES.length, 'every file stored', 20_000);
      expect([...downloads.values()].every((n) => n === 1)).toBe(true);
      expect(downloads.size).toBe(FILES.length);
      expect(mostAtOnce).toBe(2);
      const rows = await db.query<{ message_id: string; sha256: string; attempts: number }>('SELECT message_id, sha256, attempts FROM message_media ORDER BY message_id');
      expect(rows).toEqual(MESSAGES.map((m, n) => ({ message_id: m.id, sha256: sha256(FILES[n]), attempts: 1 })));
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  }, 60_000);
});
