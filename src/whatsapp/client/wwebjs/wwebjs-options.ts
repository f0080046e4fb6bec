import { resolve } from 'node:path';
import { AuthStrategy, ClientOptions, LocalAuth, Store, WebCacheOptions } from 'whatsapp-web.js';
import { CancellableRemoteAuth } from './cancellable-remote-auth';
import { WebCacheSetting, WwebjsConfig } from '../../../config/app-config';
import { browserArgs, findBrowser, runningInContainer } from './chromium';

/** RemoteAuth zips the profile at most this often (the library's floor is 60 s). */
const REMOTE_BACKUP_INTERVAL_MS = 5 * 60_000;

/** The whatsapp-web.js `ClientOptions` for one session. */
export function buildClientOptions(sessionId: string, config: WwebjsConfig, remoteStore?: Store): ClientOptions {
  const options: ClientOptions = {
    authStrategy: buildAuthStrategy(sessionId, config, remoteStore),
    authTimeoutMs: config.startTimeoutMs,
    puppeteer: {
      executablePath: findBrowser(config.chromePath),
      headless: config.headless,
      args: browserArgs(process.getuid?.() === 0, runningInContainer()),
    },
    webVersionCache: toWebCacheOptions(config.webCache),
  };
  if (config.webVersion) options.webVersion = config.webVersion;
  return options;
}

function buildAuthStrategy(sessionId: string, config: WwebjsConfig, remoteStore?: Store): AuthStrategy {
  const dataPath = resolve(config.dataDir);
  if (config.authStore === 'postgres') {
    if (!remoteStore) throw new Error('WA_AUTH_STORE=postgres needs the PostgreSQL auth store');
    return new CancellableRemoteAuth({ store: remoteStore, clientId: sessionId, dataPath, backupSyncIntervalMs: REMOTE_BACKUP_INTERVAL_MS });
  }
  // Session ids are `[A-Za-z0-9_-]{1,64}`, which LocalAuth's clientId rule (`^[-_\w]+$`) accepts.
  return new LocalAuth({ clientId: sessionId, dataPath });
}

export function toWebCacheOptions(setting: WebCacheSetting): WebCacheOptions {
  switch (setting.type) {
    case 'none':
      return { type: 'none' };
    case 'local':
      return { type: 'local', path: resolve(setting.path), strict: false };
    case 'remote':
      return { type: 'remote', remotePath: setting.remotePath, strict: false };
  }
}

/**
 * Where the session's auth strategy keeps its Chromium profile: LocalAuth in `session-<id>`,
 * RemoteAuth (`WA_AUTH_STORE=postgres`) in `RemoteAuth-<id>`, beside the zip it backs up from.
 */
export function profileDir(sessionId: string, config: WwebjsConfig): string {
  return resolve(config.dataDir, config.authStore === 'postgres' ? remoteSessionName(sessionId) : `session-${sessionId}`);
}

/** RemoteAuth's name of a session in its store. */
export function remoteSessionName(sessionId: string): string {
  return `RemoteAuth-${sessionId}`;
}
