import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AuthStrategy, Client, LocalAuth, RemoteAuth, Store } from 'whatsapp-web.js';
import { loadConfig } from '../../../config/app-config';
import { buildClientOptions, profileDir, remoteSessionName, toWebCacheOptions } from './wwebjs-options';

const store: Store = { sessionExists: () => false, save: () => undefined, extract: () => undefined, delete: () => undefined };

describe('buildClientOptions', () => {
  it('builds LocalAuth, the browser and the pinned web version from the environment', () => {
    const { wwebjs } = loadConfig({ CHROME_PATH: '/bin/sh', WWEBJS_DATA_DIR: '/tmp/wa', WWEBJS_WEB_VERSION: '2.3000.1', WWEBJS_HEADLESS: 'false', WWEBJS_START_TIMEOUT_MS: '9000' });
    const options = buildClientOptions('sales', wwebjs);
    expect(options.authStrategy).toBeInstanceOf(LocalAuth);
    expect((options.authStrategy as LocalAuth).clientId).toBe('sales');
    expect((options.authStrategy as LocalAuth).dataPath).toBe('/tmp/wa');
    expect(options.puppeteer).toMatchObject({ executablePath: '/bin/sh', headless: false });
    expect(options.webVersion).toBe('2.3000.1');
    expect(options.authTimeoutMs).toBe(9000);
  });

  it('uses RemoteAuth on the PostgreSQL store with WA_AUTH_STORE=postgres', () => {
    const { wwebjs } = loadConfig({ CHROME_PATH: '/bin/sh', WA_AUTH_STORE: 'postgres' });
    expect(buildClientOptions('sales', wwebjs, store).authStrategy).toBeInstanceOf(RemoteAuth);
    expect(() => buildClientOptions('sales', wwebjs)).toThrow('WA_AUTH_STORE=postgres needs the PostgreSQL auth store');
    expect(remoteSessionName('sales')).toBe('RemoteAuth-sales');
  });
});

describe('profileDir', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-profile-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.each([['local', {}], ['postgres', { WA_AUTH_STORE: 'postgres' }]])('is the folder the %s auth strategy gives Chromium', async (_, env: Record<string, string>) => {
    const { wwebjs } = loadConfig({ CHROME_PATH: '/bin/sh', WWEBJS_DATA_DIR: dataDir, ...env });
    const strategy = buildClientOptions('sales', wwebjs, store).authStrategy as AuthStrategy;
    // The strategies read and write only the client's puppeteer options here.
    const client = { options: { puppeteer: {} as { userDataDir?: string } } };
    strategy.setup(client as unknown as Client);
    await strategy.beforeBrowserInitialized();
    expect(resolve(client.options.puppeteer.userDataDir!)).toBe(profileDir('sales', wwebjs));
  });
});

describe('toWebCacheOptions', () => {
  it('maps each WWEBJS_WEB_CACHE form', () => {
    expect(toWebCacheOptions({ type: 'none' })).toEqual({ type: 'none' });
    expect(toWebCacheOptions({ type: 'local', path: 'cache' })).toEqual({ type: 'local', path: resolve('cache'), strict: false });
    expect(toWebCacheOptions({ type: 'remote', remotePath: 'https://example.test/{version}.html' })).toEqual({
      type: 'remote',
      remotePath: 'https://example.test/{version}.html',
      strict: false,
    });
  });
});
