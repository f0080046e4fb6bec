import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import type { Store } from 'whatsapp-web.js';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { AuthSessionRepository } from '../src/whatsapp/client/wwebjs/auth-session.repository';
import { PostgresAuthStore } from '../src/whatsapp/client/wwebjs/postgres-auth.store';
import { FAKE_WEB_VERSION, FakeAccount, FakePageGlobal, writeFakePage } from './fixtures/fake-whatsapp-web/fake-page';
import { seedAccount } from './support/accounts';
import { WwebjsTestClientFactory } from './support/client-factories';
import { chromiumProcesses } from './support/processes';
import { EventLog, TestApp, emitWithAck } from './support/test-app';
import { TestDatabase } from './support/test-database';
import { waitFor } from './support/wait';

const account: FakeAccount = {
  me: { user: '5511888880000', pushName: 'Shop' },
  chats: [{ id: '5511999990001@c.us', name: 'Alice', timestamp: 1_764_150_000, messages: [{ id: 'false_5511999990001@c.us_3EB0A1', fromMe: false, body: 'hi', timestamp: 1_764_150_000 }] }],
};

describe('PostgresAuthStore on the real database', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const dir = mkdtempSync(join(tmpdir(), 'wa-store-'));

  beforeAll(async () => {
    db = await TestDatabase.create();
    dataSource = new DataSource({ ...typeOrmOptions(db.url, 2), migrationsRun: false });
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('saves, finds, extracts and deletes a zip of a few MB byte for byte', async () => {
    const store = new PostgresAuthStore(new AuthSessionRepository(dataSource), dir);
    const zip = randomBytes(4 * 1024 * 1024);
    writeFileSync(join(dir, 'RemoteAuth-big.zip'), zip);

    expect(await store.sessionExists({ session: 'RemoteAuth-big' })).toBe(false);
    await store.save({ session: 'RemoteAuth-big' });
    expect(await store.sessionExists({ session: 'RemoteAuth-big' })).toBe(true);
    expect(await db.query('SELECT size_bytes FROM wwebjs_auth_sessions WHERE session = $1', ['RemoteAuth-big'])).toEqual([{ size_bytes: zip.length }]);

    const second = randomBytes(3 * 1024 * 1024);
    writeFileSync(join(dir, 'RemoteAuth-big.zip'), second);
    await store.save({ session: 'RemoteAuth-big' });
    await store.extract({ session: 'RemoteAuth-big', path: join(dir, 'extracted.zip') });
    expect(readFileSync(join(dir, 'extracted.zip')).equals(second)).toBe(true);

    await store.delete({ session: 'RemoteAuth-big' });
    expect(await store.sessionExists({ session: 'RemoteAuth-big' })).toBe(false);
    await expect(store.extract({ session: 'RemoteAuth-big', path: join(dir, 'x.zip') })).rejects.toThrow('No stored login for RemoteAuth-big');
  });
});

describe('logins survive a restart of the service', () => {
  const root = mkdtempSync(join(tmpdir(), 'wa-restore-'));
  const web = join(root, 'web');
  let db: TestDatabase;

  beforeAll(async () => {
    writeFakePage(web, account);
    db = await TestDatabase.create();
  });
  afterAll(async () => {
    await waitFor(() => chromiumProcesses(root).length === 0, 'every browser closed', 15_000);
    await db.drop();
    rmSync(root, { recursive: true, force: true });
  });

  /** The service with WA_PROVIDER=wwebjs, its clients built as production builds them, with the login store it configures. */
  async function startService(dataDir: string, env: Record<string, string> = {}) {
    let factory: WwebjsTestClientFactory | undefined;
    let store: Store | undefined;
    const app = await TestApp.start({
      account: seedAccount(),
      database: db,
      env: { WA_PROVIDER: 'wwebjs', WWEBJS_WEB_VERSION: FAKE_WEB_VERSION, WWEBJS_WEB_CACHE: `local:${web}`, WWEBJS_DATA_DIR: dataDir, ...env },
      clientFactory: (config, authStore) => {
        store = authStore;
        return (factory = new WwebjsTestClientFactory(config.wwebjs, authStore));
      },
    });
    return { app, factory: () => factory!, store: () => store! };
  }

  async function loginWithScan(app: TestApp, factory: WwebjsTestClientFactory, sessionId: string): Promise<void> {
    await app.request('POST', `/whatsapp-web/session/${sessionId}/start`);
    await waitFor(async () => (await app.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`)).body.status === 'qr', 'qr', 20_000);
    await factory.libraryClientOf(sessionId)!.pupPage!.evaluate(() => (globalThis as unknown as FakePageGlobal).__fakeWa.scan());
    await waitFor(async () => (await app.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`)).body.status === 'ready', 'ready', 20_000);
  }

  async function expectRestoredWithoutQr(app: TestApp, sessionId: string): Promise<void> {
    const socket = await app.socket();
    const log = new EventLog(socket);
    expect(await emitWithAck(socket, 'join-session', { sessionId })).toEqual({ ok: true });
    await waitFor(async () => (await app.request<{ status: string }>('GET', `/whatsapp-web/session/${sessionId}`)).body.status === 'ready', 'restored', 20_000);
    expect(log.of('qr')).toEqual([]);
    expect(log.of('session_status').map((e) => e.status)).not.toContain('qr');
  }

  it('restores a LocalAuth session that was ready when the service stopped', async () => {
    const dataDir = join(root, 'local');
    const first = await startService(dataDir);
    try {
      await loginWithScan(first.app, first.factory(), 'kept');
    } finally {
      await first.app.close();
    }
    expect(await db.query(`SELECT status FROM sessions WHERE session_id = 'kept'`)).toEqual([{ status: 'ready' }]);

    const second = await startService(dataDir);
    try {
      await expectRestoredWithoutQr(second.app, 'kept');
    } finally {
      await second.app.close();
    }
  });

  it('restores through the PostgreSQL store on an instance with an empty disk', async () => {
    const first = await startService(join(root, 'instance-a'), { WA_AUTH_STORE: 'postgres' });
    try {
      await loginWithScan(first.app, first.factory(), 'shared');
      // The library's own RemoteAuth methods, reached here by the test only.
      const library = first.factory().libraryClientOf('shared') as unknown as {
        authStrategy: { storeRemoteSession(): Promise<void>; compressSession(): Promise<string> };
      };
      // RemoteAuth backs up 60 s after ready, once Chromium has written the profile to disk. The test
      // closes the browser (which writes it), then takes that backup itself.
      expect((await first.app.request('POST', '/whatsapp-web/session/shared/stop')).status).toBe(200);
      // A stopped client's own backup stores nothing (this is what its 60 s timer runs after a stop).
      await library.authStrategy.storeRemoteSession();
      expect(await db.query(`SELECT session FROM wwebjs_auth_sessions`)).toEqual([]);
      // The backup the running client would have taken: the library's zip, saved through the service's store.
      const zip = await library.authStrategy.compressSession();
      await first.store().save({ session: 'RemoteAuth-shared' });
      rmSync(zip);
      expect(await db.query(`SELECT session, size_bytes > 0 AS stored FROM wwebjs_auth_sessions`)).toEqual([{ session: 'RemoteAuth-shared', stored: true }]);
    } finally {
      await first.app.close();
    }

    const otherDisk = join(root, 'instance-b');
    mkdirSync(otherDisk);
    const second = await startService(otherDisk, { WA_AUTH_STORE: 'postgres' });
    try {
      expect((await second.app.request('POST', '/whatsapp-web/session/shared/start')).status).toBe(201);
      await expectRestoredWithoutQr(second.app, 'shared');
      expect(existsSync(join(otherDisk, 'RemoteAuth-shared'))).toBe(true);
    } finally {
      await second.app.close();
    }
  });
});
