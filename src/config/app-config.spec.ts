import { hostname } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parsePgUrl } from 'pg-connection-string';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
import { AppConfig, ConfigError, loadConfig } from './app-config';

/** A folder with an account file in it, for SIMULATED_ACCOUNT. */
const dir = mkdtempSync(join(tmpdir(), 'wa-config-'));
const ACCOUNT_FILE = join(dir, 'account.json');
writeFileSync(ACCOUNT_FILE, '{"chats": []}');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEFAULTS: AppConfig = {
  port: 3000,
  host: '0.0.0.0',
  databaseUrl: undefined,
  embeddedPgDataDir: '.data/postgres',
  embeddedPgPort: 54329,
  dbPoolSize: 10,
  waProvider: 'wwebjs',
  simulatedAccountPath: undefined,
  simulatedChats: 20,
  simulatedMessagesPerChat: 50,
  simulatedFetchLatencyMs: 0,
  apiKey: undefined,
  metricsToken: undefined,
  corsOrigins: '*',
  publicOrigin: undefined,
  rateLimit: { max: 600, windowMs: 60_000 },
  trustProxy: false,
  syncFetchConcurrency: 8,
  socketWritePacingMs: 25,
  syncCatchupMaxPerChat: 5000,
  syncOnReady: 'incremental',
  syncOnReadyLimit: 100,
  logFormat: 'pretty',
  logLevel: 'log',
  wwebjs: {
    chromePath: undefined,
    headless: true,
    dataDir: '.data/wwebjs',
    webVersion: undefined,
    webCache: { type: 'local', path: '.wwebjs_cache' },
    callTimeoutMs: 60_000,
    startTimeoutMs: 60_000,
    authStore: 'local',
    maxRestarts: 5,
    restartBaseDelayMs: 2000,
  },
  restoreSessions: true,
  keepRevokedBody: false,
  webhook: undefined,
  webhookDelivery: { timeoutMs: 10_000, maxAttempts: 10, retryBaseMs: 1000, allowPrivate: true },
  redis: undefined,
  instance: { id: `${hostname()}-${process.pid}`, url: undefined, leaseTtlMs: 30_000 },
  media: { download: 'live', concurrency: 2, store: { type: 'postgres' }, maxBytes: 67_108_864, maxAttempts: 5, retryBaseMs: 5000, leaseMs: 60_000 },
};

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('returns the defaults for an empty environment', () => {
    expect(loadConfig({})).toEqual(DEFAULTS);
  });

  it('treats empty and blank variables as unset', () => {
    expect(loadConfig({ PORT: '', HOST: '   ', DATABASE_URL: '', API_KEY: ' ', WA_PROVIDER: '', CORS_ORIGINS: '' })).toEqual(DEFAULTS);
  });

  it('parses every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: ' 127.0.0.1 ',
      DATABASE_URL: 'postgres://user:pw@db.example:5433/wa',
      EMBEDDED_PG_DATA_DIR: '/var/lib/wa-pg',
      EMBEDDED_PG_PORT: '6543',
      DB_POOL_SIZE: '25',
      WA_PROVIDER: 'simulated',
      SIMULATED_ACCOUNT: ACCOUNT_FILE,
      SIMULATED_CHATS: '1000',
      SIMULATED_MESSAGES_PER_CHAT: '0',
      SIMULATED_FETCH_LATENCY_MS: '40',
      API_KEY: 'secret-key',
      METRICS_TOKEN: 'scrape-token',
      CORS_ORIGINS: 'http://a.example, https://b.example ,,',
      PUBLIC_URL: 'HTTPS://WA.Example.com:443/',
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_WINDOW_MS: '1000',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
      SYNC_FETCH_CONCURRENCY: '64',
      SOCKET_WRITE_PACING_MS: '0',
      SYNC_CATCHUP_MAX_PER_CHAT: '1',
      SYNC_ON_READY: 'off',
      SYNC_ON_READY_LIMIT: '10000',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'verbose',
      CHROME_PATH: '/usr/bin/chromium',
      WWEBJS_HEADLESS: 'false',
      WWEBJS_DATA_DIR: '/var/lib/wwebjs',
      WWEBJS_WEB_VERSION: '2.3000.1017054665',
      WWEBJS_WEB_CACHE: 'remote:https://example.com/wa/{version}.html',
      WWEBJS_CALL_TIMEOUT_MS: '100',
      WWEBJS_START_TIMEOUT_MS: '600000',
      WA_AUTH_STORE: 'postgres',
      WWEBJS_MAX_RESTARTS: '0',
      WWEBJS_RESTART_DELAY_MS: '250',
      RESTORE_SESSIONS: '0',
      KEEP_REVOKED_BODY: 'true',
      WEBHOOK_URL: 'https://crm.example.com/hooks/wa',
      WEBHOOK_SECRET: 'whsec',
      WEBHOOK_EVENTS: 'message, sync_chats_done,message',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_ALLOW_PRIVATE: 'false',
      INSTANCE_ID: 'wa-sync-2',
      INSTANCE_URL: 'http://wa-sync-2:3000/',
      SESSION_LEASE_TTL_MS: '5000',
    });
    expect(config).toEqual({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgres://user:pw@db.example:5433/wa',
      embeddedPgDataDir: '/var/lib/wa-pg',
      embeddedPgPort: 6543,
      dbPoolSize: 25,
      waProvider: 'simulated',
      simulatedAccountPath: ACCOUNT_FILE,
      simulatedChats: 1000,
      simulatedMessagesPerChat: 0,
      simulatedFetchLatencyMs: 40,
      apiKey: 'secret-key',
      metricsToken: 'scrape-token',
      corsOrigins: ['http://a.example', 'https://b.example'],
      publicOrigin: 'https://wa.example.com',
      rateLimit: { max: 0, windowMs: 1000 },
      trustProxy: 'loopback,10.0.0.0/8',
      syncFetchConcurrency: 64,
      socketWritePacingMs: 0,
      syncCatchupMaxPerChat: 1,
      syncOnReady: 'off',
      syncOnReadyLimit: 10_000,
      logFormat: 'json',
      logLevel: 'verbose',
      wwebjs: {
        chromePath: '/usr/bin/chromium',
        headless: false,
        dataDir: '/var/lib/wwebjs',
        webVersion: '2.3000.1017054665',
        webCache: { type: 'remote', remotePath: 'https://example.com/wa/{version}.html' },
        callTimeoutMs: 100,
        startTimeoutMs: 600_000,
        authStore: 'postgres',
        maxRestarts: 0,
        restartBaseDelayMs: 250,
      },
      restoreSessions: false,
      keepRevokedBody: true,
      webhook: { url: 'https://crm.example.com/hooks/wa', secret: 'whsec', events: ['message', 'sync_chats_done'] },
      webhookDelivery: { timeoutMs: 2500, maxAttempts: 3, retryBaseMs: 50, allowPrivate: false },
      instance: { id: 'wa-sync-2', url: 'http://wa-sync-2:3000', leaseTtlMs: 5000 },
      media: DEFAULTS.media,
    });
  });

  it('reads INSTANCE_ID, INSTANCE_URL and SESSION_LEASE_TTL_MS, and says what they must be', () => {
    expect(configError({ INSTANCE_ID: 'a b' }).message).toContain('INSTANCE_ID must be 1 to 128 of A-Z a-z 0-9 _ . : - (got "a b")');
    expect(configError({ INSTANCE_URL: 'http://wa:3000/api' }).message).toContain('INSTANCE_URL must be an http:// or https:// origin');
    expect(configError({ SESSION_LEASE_TTL_MS: '999' }).message).toContain('SESSION_LEASE_TTL_MS must be an integer from 1000 to 3600000 (got "999")');
  });

  it('a global webhook without events carries every event; its problems name the variable', () => {
    expect(loadConfig({ WEBHOOK_URL: 'http://10.0.0.5:8080/in' }).webhook).toEqual({
      url: 'http://10.0.0.5:8080/in',
      secret: undefined,
      events: ['message', 'message_update', 'session_status', 'sync_chats_done', 'sync_chats_failed'],
    });
    expect(configError({ WEBHOOK_URL: 'ftp://crm.example.com/' }).message).toContain('WEBHOOK_URL must be an absolute http:// or https:// URL (got "ftp://crm.example.com/")');
    expect(configError({ WEBHOOK_URL: 'https://u:p@crm.example.com/' }).message).toContain('WEBHOOK_URL must not hold a user name or password');
    expect(configError({ WEBHOOK_URL: 'https://crm.example.com/', WEBHOOK_EVENTS: 'message,qr' }).message).toContain(
      'WEBHOOK_EVENTS must be a comma-separated list of message, message_update, session_status, sync_chats_done, sync_chats_failed (got "message,qr")',
    );
    expect(configError({ WEBHOOK_URL: 'https://crm.example.com/', WEBHOOK_SECRET: 's'.repeat(257) }).message).toContain('WEBHOOK_SECRET must be at most 256 characters');
    expect(configError({ WEBHOOK_SECRET: 'whsec' }).message).toContain('WEBHOOK_SECRET is set but WEBHOOK_URL is not');
  });

  it('reads booleans as true/1 and false/0', () => {
    expect(loadConfig({ WWEBJS_HEADLESS: '1', RESTORE_SESSIONS: 'true' })).toMatchObject({ wwebjs: { headless: true }, restoreSessions: true });
    expect(loadConfig({ WWEBJS_HEADLESS: 'false', RESTORE_SESSIONS: 'false' })).toMatchObject({ wwebjs: { headless: false }, restoreSessions: false });
  });

  it('reads every WWEBJS_WEB_CACHE form', () => {
    expect(loadConfig({ WWEBJS_WEB_CACHE: 'none' }).wwebjs.webCache).toEqual({ type: 'none' });
    expect(loadConfig({ WWEBJS_WEB_CACHE: 'local:/tmp/cache' }).wwebjs.webCache).toEqual({ type: 'local', path: '/tmp/cache' });
    expect(loadConfig({ WWEBJS_WEB_CACHE: 'remote:http://x/{version}' }).wwebjs.webCache).toEqual({ type: 'remote', remotePath: 'http://x/{version}' });
  });

  it('accepts postgresql:// URLs, port 0 and CORS_ORIGINS=*', () => {
    const config = loadConfig({ DATABASE_URL: 'postgresql://localhost/wa', PORT: '0', CORS_ORIGINS: ' * ' });
    expect(config.databaseUrl).toBe('postgresql://localhost/wa');
    expect(config.port).toBe(0);
    expect(config.corsOrigins).toBe('*');
  });

  it('reads PUBLIC_URL as the origin browsers write: scheme and host in lower case, no default port, no trailing slash', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://wa.example.com' }).publicOrigin).toBe('https://wa.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://192.168.1.20:3000/' }).publicOrigin).toBe('http://192.168.1.20:3000');
    expect(loadConfig({ PUBLIC_URL: 'http://wa.lan:80' }).publicOrigin).toBe('http://wa.lan');
    expect(loadConfig({ PUBLIC_URL: 'http://[::1]:3000' }).publicOrigin).toBe('http://[::1]:3000');
  });

  it('reads every TRUST_PROXY form', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(0);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: 'uniquelocal' }).trustProxy).toBe('uniquelocal');
    expect(loadConfig({ TRUST_PROXY: '127.0.0.1, ::1/128,192.168.0.0/16' }).trustProxy).toBe('127.0.0.1,::1/128,192.168.0.0/16');
  });

  it('reads the rate limit bounds', () => {
    expect(loadConfig({ RATE_LIMIT_MAX: '1000000', RATE_LIMIT_WINDOW_MS: '86400000' }).rateLimit).toEqual({ max: 1_000_000, windowMs: 86_400_000 });
    expect(loadConfig({ RATE_LIMIT_MAX: '1' }).rateLimit).toEqual({ max: 1, windowMs: 60_000 });
  });

  it('accepts every log level', () => {
    for (const level of ['error', 'warn', 'log', 'debug', 'verbose'] as const) {
      expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    }
  });

  it('accepts IP addresses and host names as HOST', () => {
    for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'fe80::1', 'localhost', 'wa.example.com', 'my-host', 'host1.lan.', '1.2.3.example']) {
      expect(loadConfig({ HOST: host }).host).toBe(host);
    }
  });

  it.each(['999.1.1.1', '1.2.3', '256.0.0.1', '[::1]', 'http://localhost', 'my host', '-bad.example', 'bad-.example', 'a..b', 'localhost:3000', 'x'.repeat(64)])(
    'rejects HOST=%s and names it',
    (host) => {
      expect(configError({ HOST: host }).message).toBe(
        `Invalid configuration:\n  - HOST must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name such as localhost (got "${host}")`,
      );
    },
  );

  it('reads CORS_ORIGINS as the origins browsers write, and refuses entries that are not http(s) origins', () => {
    expect(loadConfig({ CORS_ORIGINS: 'HTTP://App.Example:80/, https://b.example:8443,http://app.example' }).corsOrigins).toEqual([
      'http://app.example',
      'https://b.example:8443',
    ]);
    expect(configError({ CORS_ORIGINS: 'notaurl' }).message).toBe(
      'Invalid configuration:\n  - CORS_ORIGINS must be * or a comma-separated list of http:// or https:// origins with no path, such as https://app.example.com,http://localhost:5173 (not origins: "notaurl")',
    );
    expect(configError({ CORS_ORIGINS: 'https://ok.example, ftp://x.example, https://x.example/app, *' }).message).toBe(
      'Invalid configuration:\n  - CORS_ORIGINS must be * or a comma-separated list of http:// or https:// origins with no path, such as https://app.example.com,http://localhost:5173 (not origins: "ftp://x.example", "https://x.example/app", "*")',
    );
  });

  it('checks the SIMULATED_ACCOUNT file at once when the simulated provider is chosen', () => {
    const missing = join(dir, 'missing.json');
    expect(configError({ WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: missing }).message).toBe(
      `Invalid configuration:\n  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file (got "${missing}": no such file)`,
    );
    expect(configError({ WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: dir }).message).toBe(
      `Invalid configuration:\n  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file (got "${dir}": not a file)`,
    );
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, '{chats');
    expect(configError({ WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: notJson }).message).toMatch(
      new RegExp(`^Invalid configuration:\\n  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file \\(got "${notJson}": .*JSON.*\\)$`),
    );
    const noChats = join(dir, 'no-chats.json');
    writeFileSync(noChats, '{"chats": {}}');
    expect(configError({ WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: noChats }).message).toBe(
      `Invalid configuration:\n  - SIMULATED_ACCOUNT must be demo or the path of a readable account JSON file (got "${noChats}": the file: "chats" must be an array)`,
    );
    expect(loadConfig({ WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: 'demo' }).simulatedAccountPath).toBe('demo');
    // Not read by the whatsapp-web.js provider, so not checked.
    expect(loadConfig({ SIMULATED_ACCOUNT: missing }).simulatedAccountPath).toBe(missing);
  });

  it('puts DATABASE_PASSWORD into DATABASE_URL, encoded, so that any password survives', () => {
    const password = 'p@ss:w/rd%41 #?&=é';
    const url = loadConfig({ DATABASE_URL: 'postgres://whatsapp@postgres:5432/whatsapp', DATABASE_PASSWORD: password }).databaseUrl!;
    expect(url).toBe('postgres://whatsapp:p%40ss%3Aw%2Frd%2541%20%23%3F%26%3D%C3%A9@postgres:5432/whatsapp');
    // Both readers of the URL, TypeORM's and node-postgres', get the password back as it was.
    expect(DriverUtils.buildDriverOptions({ url })).toMatchObject({ host: 'postgres', port: 5432, username: 'whatsapp', password, database: 'whatsapp' });
    expect(parsePgUrl(url)).toMatchObject({ host: 'postgres', port: '5432', user: 'whatsapp', password, database: 'whatsapp' });
    // It replaces a password written in the URL.
    expect(loadConfig({ DATABASE_URL: 'postgres://u:old@db/wa', DATABASE_PASSWORD: 'new' }).databaseUrl).toBe('postgres://u:new@db/wa');
    expect(configError({ DATABASE_PASSWORD: 'secret' }).message).toBe(
      'Invalid configuration:\n  - DATABASE_PASSWORD needs DATABASE_URL (the embedded PostgreSQL has its own password)',
    );
  });

  it('says what PUBLIC_URL must be', () => {
    expect(configError({ PUBLIC_URL: 'https://wa.example.com/app' }).message).toBe(
      'Invalid configuration:\n  - PUBLIC_URL must be an http:// or https:// origin, such as https://wa.example.com or http://192.168.1.20:3000, with no path (got "https://wa.example.com/app")',
    );
  });

  it('reads REDIS_URL and REDIS_PREFIX, and says what they must be', () => {
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'wa-sync' });
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2', REDIS_PREFIX: 'prod:eu' }).redis).toEqual({ url: 'rediss://:pw@redis.internal:6380/2', prefix: 'prod:eu' });
    expect(configError({ REDIS_URL: 'http://127.0.0.1:6379' }).message).toContain('REDIS_URL must be a redis:// or rediss:// URL');
    expect(configError({ REDIS_URL: 'redis://127.0.0.1', REDIS_PREFIX: 'a b' }).message).toContain('REDIS_PREFIX must be 1 to 64 of A-Z a-z 0-9 _ . : - (got "a b")');
    expect(loadConfig({ REDIS_PREFIX: 'x' }).redis).toBeUndefined();
  });

  it('names every bad variable at once', () => {
    const error = configError({
      PORT: 'abc',
      WA_PROVIDER: 'x',
      DATABASE_URL: 'mysql://root@localhost/wa',
      SYNC_FETCH_CONCURRENCY: '0',
    });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toBe(
      [
        'Invalid configuration:',
        '  - PORT must be an integer from 0 to 65535 (got "abc")',
        '  - DATABASE_URL must be a postgres:// or postgresql:// URL',
        '  - WA_PROVIDER must be one of wwebjs, simulated (got "x")',
        '  - SYNC_FETCH_CONCURRENCY must be an integer from 1 to 64 (got "0")',
      ].join('\n'),
    );
  });

  it.each([
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '1.5'],
    ['PORT', '3e3'],
    ['EMBEDDED_PG_PORT', '0'],
    ['DB_POOL_SIZE', '0'],
    ['DB_POOL_SIZE', '201'],
    ['SIMULATED_CHATS', '-5'],
    ['SIMULATED_MESSAGES_PER_CHAT', '100001'],
    ['SYNC_FETCH_CONCURRENCY', '65'],
    ['SOCKET_WRITE_PACING_MS', '1001'],
    ['SOCKET_WRITE_PACING_MS', '-1'],
    ['SYNC_CATCHUP_MAX_PER_CHAT', '0'],
    ['SYNC_CATCHUP_MAX_PER_CHAT', '1000001'],
    ['SYNC_ON_READY', 'INCREMENTAL'],
    ['SYNC_ON_READY', 'always'],
    ['SYNC_ON_READY_LIMIT', '0'],
    ['SYNC_ON_READY_LIMIT', '10001'],
    ['LOG_FORMAT', 'xml'],
    ['LOG_LEVEL', 'trace'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'http://localhost:5432/wa'],
    ['WWEBJS_HEADLESS', 'yes'],
    ['RESTORE_SESSIONS', 'TRUE'],
    ['WWEBJS_WEB_CACHE', 'local:'],
    ['WWEBJS_WEB_CACHE', 'remote:ftp://x'],
    ['WWEBJS_WEB_CACHE', 'disk'],
    ['WWEBJS_CALL_TIMEOUT_MS', '99'],
    ['WWEBJS_START_TIMEOUT_MS', '600001'],
    ['WA_AUTH_STORE', 'redis'],
    ['WWEBJS_MAX_RESTARTS', '1001'],
    ['WWEBJS_RESTART_DELAY_MS', '-1'],
    ['RATE_LIMIT_MAX', '-1'],
    ['RATE_LIMIT_MAX', '1000001'],
    ['RATE_LIMIT_MAX', 'many'],
    ['RATE_LIMIT_WINDOW_MS', '999'],
    ['RATE_LIMIT_WINDOW_MS', '86400001'],
    ['TRUST_PROXY', 'yes'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', 'loopback,not-an-ip'],
    ['TRUST_PROXY', '1234'],
    ['PUBLIC_URL', 'wa.example.com'],
    ['PUBLIC_URL', 'ftp://wa.example.com'],
    ['PUBLIC_URL', 'https://wa.example.com/dashboard'],
    ['PUBLIC_URL', 'https://wa.example.com/?x=1'],
    ['PUBLIC_URL', 'https://wa.example.com/#top'],
    ['PUBLIC_URL', 'https://user:pw@wa.example.com'],
    ['PUBLIC_URL', 'https://'],
  ])('rejects %s=%s and names it', (name, value) => {
    const error = configError({ [name]: value });
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1].startsWith(`  - ${name} must be `)).toBe(true);
  });
});
