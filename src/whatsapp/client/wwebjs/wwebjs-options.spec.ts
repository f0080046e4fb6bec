import { resolve } from 'node:path';
import { LocalAuth, RemoteAuth, Store } from 'whatsapp-web.js';
import { loadConfig } from '../../../config/app-config';
import { buildClientOptions, localProfileDir, remoteSessionName, toWebCacheOptions } from './wwebjs-options';

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
    expect(localProfileDir('sales', wwebjs)).toBe('/tmp/wa/session-sales');
  });

  it('uses RemoteAuth on the PostgreSQL store with WA_AUTH_STORE=postgres', () => {
    const { wwebjs } = loadConfig({ CHROME_PATH: '/bin/sh', WA_AUTH_STORE: 'postgres' });
    expect(buildClientOptions('sales', wwebjs, store).authStrategy).toBeInstanceOf(RemoteAuth);
    expect(() => buildClientOptions('sales', wwebjs)).toThrow('WA_AUTH_STORE=postgres needs the PostgreSQL auth store');
    expect(remoteSessionName('sales')).toBe('RemoteAuth-sales');
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
