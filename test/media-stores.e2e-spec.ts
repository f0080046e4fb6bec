import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { MediaView } from '../src/media/media.types';
import type { SimulatedAccountSpec } from '../src/whatsapp/client/simulated/simulated-account';
import { chat } from './support/accounts';
import { bytesOf, mediaMessage, sha256, stored } from './support/media-fixtures';
import { TestApp } from './support/test-app';
import { waitFor } from './support/wait';

/**
 * Each store (a folder, S3 through the real @aws-sdk/client-s3 against a real s3rver), and the store
 * unavailable: the download stays `pending` with the reason, nothing partial is served, and once the
 * store is back the queue stores it. (PostgreSQL, the default, is test/media.e2e-spec.ts's.)
 */
const C1 = 'chat1@c.us';
const A = mediaMessage(C1, 1, stored(bytesOf(300_000, 7), 'image/jpeg', 'a.jpg'));
const B = mediaMessage(C1, 2, stored(bytesOf(70_000, 8), 'application/pdf', 'b.pdf'));
const BYTES = { [A.id]: bytesOf(300_000, 7), [B.id]: bytesOf(70_000, 8) };

function account(): SimulatedAccountSpec {
  return { scanAfterMs: 0, fetchLatencyMs: 0, chats: [{ ...chat(C1, 1), messages: [...chat(C1, 1).messages, A, B] }] };
}

const mediaPath = (sessionId: string, messageId: string) => `/whatsapp-web/session/${sessionId}/chats/${C1}/messages/${encodeURIComponent(messageId)}/media`;

async function bytes(t: TestApp, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Headers }> {
  const response = await fetch(`${t.baseUrl}${path}`, { headers });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()), headers: response.headers };
}

/** The store's life, the same for every store: stored, served, broken, repaired. */
async function exercise(t: TestApp, S: string, kind: string, breakStore: () => Promise<void>, repairStore: () => Promise<void>): Promise<void> {
  await t.readySession(S);
  expect((await t.request('POST', `/whatsapp-web/session/${S}/sync-chats`)).status).toBe(200);
  expect((await t.request<MediaView>('POST', mediaPath(S, A.id))).body).toMatchObject({ status: 'stored', sha256: sha256(BYTES[A.id]), size: 300_000 });
  const whole = await bytes(t, mediaPath(S, A.id));
  expect([whole.status, whole.headers.get('content-length'), whole.body.equals(BYTES[A.id])]).toEqual([200, '300000', true]);
  const part = await bytes(t, mediaPath(S, A.id), { range: 'bytes=100000-100009' });
  expect([part.status, part.headers.get('content-range'), part.body.equals(BYTES[A.id].subarray(100_000, 100_010))]).toEqual([206, 'bytes 100000-100009/300000', true]);

  await breakStore();
  const failed = await t.request<MediaView>('POST', mediaPath(S, B.id));
  expect(failed.status).toBe(200);
  expect(failed.body).toMatchObject({ status: 'pending', sha256: null });
  expect(failed.body.error).toMatch(new RegExp(`^the ${kind} store failed: .+ \\(attempt 1 of 50; next in 100 ms\\)$`));
  const notStored = await t.request<{ message: string }>('GET', mediaPath(S, B.id));
  expect(notStored).toMatchObject({ status: 409, body: { message: `Media of message ${B.id} is not stored (status: pending)` } });
  const unavailable = await t.request<{ message: string }>('GET', mediaPath(S, A.id));
  expect(unavailable).toMatchObject({ status: 503, body: { message: `The ${kind} media store is unavailable; try again later` } });

  await repairStore();
  await waitFor(async () => (await t.db.query<{ status: string }>('SELECT status FROM message_media WHERE message_id = $1', [B.id]))[0]?.status === 'stored', 'B stored once the store is back', 20_000);
  expect((await bytes(t, mediaPath(S, B.id))).body.equals(BYTES[B.id])).toBe(true);
  expect((await bytes(t, mediaPath(S, A.id))).body.equals(BYTES[A.id])).toBe(true);
}

const ENV = { MEDIA_DOWNLOAD: 'live', MEDIA_RETRY_BASE_MS: '100', MEDIA_MAX_ATTEMPTS: '50' };

describe('MEDIA_STORE=fs:<folder>', () => {
  let t: TestApp;
  const root = mkdtempSync(join(tmpdir(), 'wa-media-fs-'));
  const folder = join(root, 'media');

  beforeAll(async () => {
    t = await TestApp.start({ account: account(), env: { ...ENV, MEDIA_STORE: `fs:${folder}` } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stores files by SHA-256, serves them, and a folder that cannot be written leaves the download pending with no partial file', async () => {
    await exercise(
      t,
      'fs',
      'fs',
      // Root may write anywhere: a folder replaced by a file is one no process can write into.
      async () => {
        rmSync(folder, { recursive: true, force: true });
        writeFileSync(folder, 'not a folder');
      },
      async () => {
        rmSync(folder, { force: true });
        mkdirSync(folder);
        // What was stored before went with the folder: stored again, the queue has nothing of it.
        const a = BYTES[A.id];
        const hash = sha256(a);
        mkdirSync(join(folder, hash.slice(0, 2), hash.slice(2, 4)), { recursive: true });
        writeFileSync(join(folder, hash.slice(0, 2), hash.slice(2, 4), hash), a);
      },
    );
    const hash = sha256(BYTES[B.id]);
    expect(readFileSync(join(folder, hash.slice(0, 2), hash.slice(2, 4), hash)).equals(BYTES[B.id])).toBe(true);
    const files = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
    expect(files).toEqual([sha256(BYTES[A.id]), hash].sort());
  });
});

describe('MEDIA_STORE=s3, against s3rver', () => {
  let t: TestApp;
  let s3: S3rver;
  let port = 0;
  const directory = mkdtempSync(join(tmpdir(), 'wa-s3rver-'));

  async function startS3(): Promise<void> {
    s3 = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'wa-media', configs: [] }] });
    port = (await s3.run()).port;
  }

  beforeAll(async () => {
    await startS3();
    t = await TestApp.start({
      account: account(),
      env: { ...ENV, MEDIA_STORE: 's3', S3_BUCKET: 'wa-media', S3_ENDPOINT: `http://127.0.0.1:${port}`, S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'S3RVER', S3_SECRET_ACCESS_KEY: 'S3RVER' },
    });
  });
  afterAll(async () => {
    await t.close();
    await s3.close().catch(() => undefined);
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores objects media/<sha256>, serves them (ranges through S3 GETs), and an S3 that is down leaves the download pending', async () => {
    await exercise(
      t,
      's3',
      's3',
      () => s3.close(),
      () => startS3(),
    );
    const client = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'wa-media' }));
    client.destroy();
    expect((listed.Contents ?? []).map((o) => [o.Key, o.Size]).sort()).toEqual(
      [
        [`media/${sha256(BYTES[A.id])}`, 300_000],
        [`media/${sha256(BYTES[B.id])}`, 70_000],
      ].sort(),
    );
  });
});
