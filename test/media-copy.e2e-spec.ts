import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { loadConfig } from '../src/config/app-config';
import { copyMedia } from '../src/media/copy-media';
import type { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { bytesOf, mediaMessage, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

/** README, "Moving media from PostgreSQL to S3": the copy, then the service on the new store serves the same bytes. */
const C1 = 'chat1@c.us';
const FILES = [bytesOf(50_000, 31), bytesOf(80_000, 32)];
const MESSAGES = [...FILES.map((file, n) => mediaMessage(C1, n + 1, stored(file, 'image/jpeg'))), mediaMessage(C1, 3, stored(FILES[0], 'image/jpeg'))];

function account(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [{ ...chat(C1, 1), messages: [...chat(C1, 1).messages, ...MESSAGES] }] };
}

describe('moving media from PostgreSQL to S3', () => {
  it('copies each stored object once, and the service on MEDIA_STORE=s3 serves them', async () => {
    const db = await TestDatabase.create();
    const directory = mkdtempSync(join(tmpdir(), 'wa-s3-copy-'));
    const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'wa-media', configs: [] }] });
    const { port } = await s3.run();
    const s3Env = { MEDIA_STORE: 's3', S3_BUCKET: 'wa-media', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' };
    try {
      const before = await TestApp.start({ account: account(), database: db, env: { MEDIA_DOWNLOAD: 'all' } });
      await before.readySession('s');
      expect((await before.request('POST', '/whatsapp-web/session/s/sync-chats')).status).toBe(200);
      await waitFor(async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM message_media WHERE status = 'stored'`))[0].n === 3, 'stored in PostgreSQL');
      await before.close();

      const lines: string[] = [];
      expect(await copyMedia(loadConfig({ DATABASE_URL: db.url, ...s3Env }), 'postgres', (line) => lines.push(line))).toEqual({ copied: 2, missing: [] });
      expect(lines).toEqual(['2 copied so far']);
      // Nothing else changes: the service on S3 serves every message's bytes (after the blobs are gone from PostgreSQL).
      await db.query('TRUNCATE media_blobs');
      const after = await TestApp.start({ account: account(), database: db, env: { MEDIA_DOWNLOAD: 'all', ...s3Env } });
      try {
        for (const [n, message] of MESSAGES.entries()) {
          const answer = await fetch(`${after.baseUrl}/whatsapp-web/session/s/chats/${C1}/messages/${encodeURIComponent(message.id)}/media`);
          expect(Buffer.from(await answer.arrayBuffer()).equals(FILES[n % 2])).toBe(true);
        }
      } finally {
        await after.close();
      }
    } finally {
      await s3.close();
      rmSync(directory, { recursive: true, force: true });
      await db.drop();
    }
  }, 60_000);
});
