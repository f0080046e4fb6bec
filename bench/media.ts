import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import S3rver from 's3rver';
import { adminQuery } from '../test/setup/test-postgres';
import { BenchPostgres } from './bench-postgres';
import { MediaAccountOptions, mediaSize } from './media-account';
import { ServerProcess } from './server-process';
import { SyncMeasurement, measureSync, startReadySession } from './sync-driver';
import { median } from './webhook-sync-cost';

const ENTRY = ['-r', 'ts-node/register/transpile-only', join(__dirname, 'media-server-main.ts')];
const SESSION = 'bench';
const MB = 1024 * 1024;

export interface StoreRun {
  store: string;
  files: number;
  bytes: number;
  /** From the sync's request to the last file stored. */
  elapsedMs: number;
  filesPerSecond: number;
  megabytesPerSecond: number;
  baselineRss: number;
  peakRss: number;
  largestFile: number;
  concurrency: number;
}

export interface MediaBench {
  stores: StoreRun[];
  sync: { all: SyncMeasurement[]; off: SyncMeasurement[]; medianAll: number; medianOff: number; ratio: number; mediaMessages: number; mediaStoredDuringSync: number[] };
}

/** A server of the media bench (its generated account, `env`) on a fresh database, with its session ready. */
async function withMediaServer<T>(pg: BenchPostgres, label: string, account: MediaAccountOptions, env: Record<string, string>, work: (server: ServerProcess, databaseUrl: string) => Promise<T>): Promise<T> {
  const url = await pg.freshDatabase(label);
  const server = await ServerProcess.start({ DATABASE_URL: url, BENCH_MEDIA_ACCOUNT: JSON.stringify(account), ...env }, { entry: ENTRY });
  try {
    await startReadySession(server.url, SESSION);
    await pg.checkpoint();
    return await work(server, url);
  } finally {
    await server.stop();
    await pg.dropDatabase(url);
  }
}

async function counts(databaseUrl: string): Promise<{ stored: number; settled: number; bytes: number }> {
  const { rows } = await adminQuery(
    databaseUrl,
    `SELECT count(*) FILTER (WHERE status = 'stored')::int AS stored, count(*) FILTER (WHERE status <> 'pending')::int AS settled, COALESCE(sum(size) FILTER (WHERE status = 'stored'), 0)::bigint AS bytes FROM message_media`,
  );
  const row = rows[0] as { stored: number; settled: number; bytes: string };
  return { stored: row.stored, settled: row.settled, bytes: Number(row.bytes) };
}

/**
 * Download-and-store throughput of one store: `files` media messages of 100 KB to 2 MB, queued by a
 * sync (MEDIA_DOWNLOAD=all), from the sync's request to the last one stored, and the server's RSS.
 */
async function measureStore(pg: BenchPostgres, store: string, env: Record<string, string>, files: number): Promise<StoreRun> {
  const account: MediaAccountOptions = { chats: 10, messagesPerChat: files / 10, mediaEvery: 1, minBytes: 100 * 1024, maxBytes: 2 * MB };
  const concurrency = 2;
  return withMediaServer(pg, `media_${store.replace(/[^a-z0-9]+/g, "_")}`, account, { MEDIA_DOWNLOAD: 'all', MEDIA_DOWNLOAD_CONCURRENCY: String(concurrency), ...env }, async (server, databaseUrl) => {
    const baselineRss = server.rssBytes();
    server.startSampling();
    const started = performance.now();
    const answer = await fetch(`${server.url}/whatsapp-web/session/${SESSION}/sync-chats?limitPerChat=${account.messagesPerChat}`, { method: 'POST' });
    if (answer.status !== 200) throw new Error(`media bench: sync ${answer.status}`);
    let now = await counts(databaseUrl);
    const deadline = Date.now() + 20 * 60_000;
    while (now.settled < files) {
      if (Date.now() > deadline) throw new Error(`media bench (${store}): ${now.settled} of ${files} settled after 20 minutes`);
      await delay(100);
      now = await counts(databaseUrl);
    }
    const elapsedMs = performance.now() - started;
    const peakRss = server.stopSampling();
    if (now.stored !== files) throw new Error(`media bench (${store}): ${files - now.stored} file(s) not stored`);
    const largestFile = Math.max(...Array.from({ length: files }, (_, n) => mediaSize(account, n)));
    return { store, files, bytes: now.bytes, elapsedMs, filesPerSecond: files / (elapsedMs / 1000), megabytesPerSecond: now.bytes / MB / (elapsedMs / 1000), baselineRss, peakRss, largestFile, concurrency };
  });
}

/**
 * The media bench: each store's throughput, then what downloads cost a text sync: 1,000 chats x 100
 * messages, one in a hundred with media (1,000 files), synced with MEDIA_DOWNLOAD=all against off,
 * the arms alternating A B B A (and B A A B), each a server on a fresh database (after a warm-up sync).
 */
export async function measureMedia(pg: BenchPostgres, quick: boolean): Promise<MediaBench> {
  const files = quick ? 200 : 1000;
  const stores: StoreRun[] = [];
  stores.push(await measureStore(pg, 'postgres', { MEDIA_STORE: 'postgres' }, files));
  const folder = mkdtempSync(join(tmpdir(), 'wa-bench-media-fs-'));
  try {
    stores.push(await measureStore(pg, 'fs', { MEDIA_STORE: `fs:${folder}` }, files));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  const s3Dir = mkdtempSync(join(tmpdir(), 'wa-bench-media-s3-'));
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3Dir, configureBuckets: [{ name: 'bench', configs: [] }] });
  const { port } = await s3.run();
  try {
    const env = { MEDIA_STORE: 's3', S3_BUCKET: 'bench', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' };
    stores.push(await measureStore(pg, 's3 (s3rver)', env, files));
  } finally {
    await s3.close();
    rmSync(s3Dir, { recursive: true, force: true });
  }

  return { stores, sync: await measureMediaSync(pg, quick) };
}

/** The text sync with MEDIA_DOWNLOAD=all against off (see measureMedia). */
export async function measureMediaSync(pg: BenchPostgres, quick: boolean, arms: { all: string; off: string } = { all: 'all', off: 'off' }): Promise<MediaBench['sync']> {
  const chats = quick ? 200 : 1000;
  const account: MediaAccountOptions = { chats, messagesPerChat: 100, mediaEvery: 100, minBytes: 100 * 1024, maxBytes: 2 * MB };
  const all: SyncMeasurement[] = [];
  const off: SyncMeasurement[] = [];
  const mediaStoredDuringSync: number[] = [];
  // A B B A, then (not quick) B A A B: the machine's drift weighs on both arms alike.
  const order = quick ? (['all', 'off', 'off', 'all'] as const) : (['all', 'off', 'off', 'all', 'off', 'all', 'all', 'off'] as const);
  for (const [n, mode] of order.entries()) {
    const run = await withMediaServer(pg, `media_sync_${n}`, account, { MEDIA_DOWNLOAD: arms[mode] }, async (server, databaseUrl) => {
      // As the webhook comparison does: a first sync compiles the code paths (one message a chat,
      // none with media), then a fresh session is measured.
      await measureSync(server, SESSION, 1, { clients: 0 });
      await startReadySession(server.url, 'measured');
      await pg.settle(databaseUrl);
      const measured = await measureSync(server, 'measured', 100, { clients: 0 });
      if (mode === 'all') mediaStoredDuringSync.push((await counts(databaseUrl)).stored);
      return measured;
    });
    (mode === 'all' ? all : off).push(run);
  }
  const rate = (m: SyncMeasurement) => m.messagesSynced / (m.elapsedMs / 1000);
  const medianAll = median(all.map(rate));
  const medianOff = median(off.map(rate));
  return { all, off, medianAll, medianOff, ratio: medianAll / medianOff, mediaMessages: chats, mediaStoredDuringSync };
}
