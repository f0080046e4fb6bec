import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { DEMO_ACCOUNT_NAME } from '../whatsapp/client/simulated/demo-account';
import { parseAccountSpec } from '../whatsapp/client/simulated/simulated-account';
import { WEBHOOK_EVENT_NAMES, WEBHOOK_SECRET_MAX_LENGTH, WebhookEventName, unknownWebhookEvents, webhookUrlProblem } from '../webhooks/webhook-rules';

/**
 * The service's whole configuration, read from the environment once at boot. A bad variable stops
 * start-up with a message that names it, instead of failing later in the middle of a sync.
 */
export type WaProvider = 'wwebjs' | 'simulated';
export type LogFormat = 'pretty' | 'json';
export type AuthStore = 'local' | 'postgres';
/** What a session's transition to `ready` starts by itself: a run of that mode, or nothing. */
export type SyncOnReady = 'incremental' | 'full' | 'off';

/** Where whatsapp-web.js gets the WhatsApp Web page (operators pin versions when WhatsApp breaks it). */
export type WebCacheSetting = { type: 'none' } | { type: 'local'; path: string } | { type: 'remote'; remotePath: string };

export interface WwebjsConfig {
  /** Chrome/Chromium binary; `undefined`: found on its own (Debian's chromium, then Chrome). */
  chromePath: string | undefined;
  headless: boolean;
  /** Folder of LocalAuth profiles (and RemoteAuth's working copies). */
  dataDir: string;
  webVersion: string | undefined;
  webCache: WebCacheSetting;
  /** Time limit of every call into the page (getChats, fetchMessages, ...). */
  callTimeoutMs: number;
  /** Time limit for the page to load WhatsApp Web (the library's `authTimeoutMs`). */
  startTimeoutMs: number;
  authStore: AuthStore;
  /** Restarts after an unexpected disconnect, with exponential back-off; none after a logout. */
  maxRestarts: number;
  restartBaseDelayMs: number;
}

export interface AppConfig {
  port: number;
  host: string;
  /** `undefined` means: start the embedded PostgreSQL (see database/embedded-postgres.ts). */
  databaseUrl: string | undefined;
  embeddedPgDataDir: string;
  embeddedPgPort: number;
  dbPoolSize: number;
  waProvider: WaProvider;
  simulatedAccountPath: string | undefined;
  simulatedChats: number;
  simulatedMessagesPerChat: number;
  simulatedFetchLatencyMs: number;
  apiKey: string | undefined;
  /** A bearer token that opens `GET /metrics` (besides the API key), for a Prometheus server. */
  metricsToken: string | undefined;
  corsOrigins: string[] | '*';
  /** `PUBLIC_URL`'s origin (`https://wa.example.com`): how browsers reach the service, its own origin. */
  publicOrigin: string | undefined;
  /** REST requests allowed per client IP in each window; `max: 0` turns the limit off. */
  rateLimit: RateLimitConfig;
  /** Express's `trust proxy`: whose `X-Forwarded-For` gives the client IP that rate limits count. */
  trustProxy: TrustProxySetting;
  syncFetchConcurrency: number;
  /** A busy websocket is written at most once per this many ms; 0 writes every event at once. */
  socketWritePacingMs: number;
  /** New messages an incremental run stores of one chat at most; past it the chat is reported with a gap. */
  syncCatchupMaxPerChat: number;
  /** The run each transition to `ready` starts (`off`: none), and its `limitPerChat`. */
  syncOnReady: SyncOnReady;
  syncOnReadyLimit: number;
  logFormat: LogFormat;
  logLevel: LogLevelName;
  wwebjs: WwebjsConfig;
  /** Start again, at boot, the sessions that were logged in when the service stopped. */
  restoreSessions: boolean;
  /** Keep the text of a message deleted for everyone (by default it is dropped, the row stays). */
  keepRevokedBody: boolean;
  /** The webhook of every session (`WEBHOOK_URL`), when set. */
  webhook: GlobalWebhookConfig | undefined;
  webhookDelivery: WebhookDeliveryConfig;
  /** Redis (`REDIS_URL`) that several instances share: Socket.IO fan-out; unset: one instance, no Redis. */
  redis: RedisConfig | undefined;
  /** This instance among several on one PostgreSQL: its name, address and session leases. */
  instance: InstanceConfig;
  media: MediaConfig;
}

export interface InstanceConfig {
  /** `INSTANCE_ID`: the owner named in session leases; default host name and pid. */
  id: string;
  /** `INSTANCE_URL`: where the other instances send the calls about this instance's sessions; `undefined`: `http://<host name>:<port>` once listening. */
  url: string | undefined;
  /** How long a session lease lasts unless renewed (renewed every third of it). */
  leaseTtlMs: number;
}

/** Which messages' media is downloaded: those arriving live after `ready`, also those a sync stores, or none. */
export type MediaDownload = 'live' | 'all' | 'off';

/** Where downloaded media is kept (README, "Media"). */
export type MediaStoreSetting = { type: 'postgres' } | { type: 'fs'; folder: string } | ({ type: 's3' } & S3Config);

export interface S3Config {
  bucket: string;
  /** `undefined`: AWS's own endpoint for the region. */
  endpoint: string | undefined;
  region: string;
  /** Both unset: the SDK's default credential chain (environment, profile, instance role). */
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  forcePathStyle: boolean;
}

export interface MediaConfig {
  download: MediaDownload;
  /** Downloads running at once in this process. */
  concurrency: number;
  store: MediaStoreSetting;
  /** Larger media is not downloaded (`too_large`). */
  maxBytes: number;
  /** Attempts before a download that keeps failing is `failed`. */
  maxAttempts: number;
  /** The first retry's delay; each next one doubles, up to 10 minutes. */
  retryBaseMs: number;
  /** How long a claimed download is this process's; renewed while it runs, so that a killed process gives it back. */
  leaseMs: number;
}

export interface RedisConfig {
  url: string;
  /** Prefix of every key and channel, so that deployments can share one Redis. */
  prefix: string;
}

/** How deliveries are sent and retried, for every webhook. */
export interface WebhookDeliveryConfig {
  timeoutMs: number;
  maxAttempts: number;
  /** The first retry's delay; each next one doubles, up to 5 minutes. */
  retryBaseMs: number;
  /** Whether URLs that resolve to private, loopback or link-local addresses are posted to. */
  allowPrivate: boolean;
}

export interface GlobalWebhookConfig {
  url: string;
  secret: string | undefined;
  events: WebhookEventName[];
}

export interface RateLimitConfig {
  max: number;
  windowMs: number;
}

/** `false`: the socket's address is the client; `true`: any proxy; a number: that many hops; else addresses/subnets. */
export type TrustProxySetting = boolean | number | string;

export const LOG_LEVELS = ['error', 'warn', 'log', 'debug', 'verbose'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Injection token for the validated configuration object. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);
  const config: AppConfig = {
    port: read.int('PORT', 3000, 0, 65535),
    host: read.host('HOST') ?? '0.0.0.0',
    databaseUrl: read.databaseUrl('DATABASE_URL', 'DATABASE_PASSWORD'),
    embeddedPgDataDir: read.str('EMBEDDED_PG_DATA_DIR') ?? '.data/postgres',
    embeddedPgPort: read.int('EMBEDDED_PG_PORT', 54329, 1, 65535),
    dbPoolSize: read.int('DB_POOL_SIZE', 10, 1, 200),
    waProvider: read.oneOf('WA_PROVIDER', ['wwebjs', 'simulated'] as const, 'wwebjs'),
    simulatedAccountPath: read.simulatedAccount('SIMULATED_ACCOUNT', env.WA_PROVIDER?.trim() === 'simulated'),
    simulatedChats: read.int('SIMULATED_CHATS', 20, 0, 1_000_000),
    simulatedMessagesPerChat: read.int('SIMULATED_MESSAGES_PER_CHAT', 50, 0, 100_000),
    simulatedFetchLatencyMs: read.int('SIMULATED_FETCH_LATENCY_MS', 0, 0, 60_000),
    apiKey: read.str('API_KEY'),
    metricsToken: read.str('METRICS_TOKEN'),
    corsOrigins: read.origins('CORS_ORIGINS'),
    publicOrigin: read.origin('PUBLIC_URL'),
    rateLimit: {
      max: read.int('RATE_LIMIT_MAX', 600, 0, 1_000_000),
      windowMs: read.int('RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    },
    trustProxy: read.trustProxy('TRUST_PROXY'),
    syncFetchConcurrency: read.int('SYNC_FETCH_CONCURRENCY', 8, 1, 64),
    socketWritePacingMs: read.int('SOCKET_WRITE_PACING_MS', 25, 0, 1000),
    syncCatchupMaxPerChat: read.int('SYNC_CATCHUP_MAX_PER_CHAT', 5000, 1, 1_000_000),
    syncOnReady: read.oneOf('SYNC_ON_READY', ['incremental', 'full', 'off'] as const, 'incremental'),
    syncOnReadyLimit: read.int('SYNC_ON_READY_LIMIT', 100, 1, 10_000),
    logFormat: read.oneOf('LOG_FORMAT', ['pretty', 'json'] as const, 'pretty'),
    logLevel: read.oneOf('LOG_LEVEL', LOG_LEVELS, 'log'),
    wwebjs: {
      chromePath: read.str('CHROME_PATH'),
      headless: read.bool('WWEBJS_HEADLESS', true),
      dataDir: read.str('WWEBJS_DATA_DIR') ?? '.data/wwebjs',
      webVersion: read.str('WWEBJS_WEB_VERSION'),
      webCache: read.webCache('WWEBJS_WEB_CACHE'),
      callTimeoutMs: read.int('WWEBJS_CALL_TIMEOUT_MS', 60_000, 100, 3_600_000),
      startTimeoutMs: read.int('WWEBJS_START_TIMEOUT_MS', 60_000, 1000, 600_000),
      authStore: read.oneOf('WA_AUTH_STORE', ['local', 'postgres'] as const, 'local'),
      maxRestarts: read.int('WWEBJS_MAX_RESTARTS', 5, 0, 1000),
      restartBaseDelayMs: read.int('WWEBJS_RESTART_DELAY_MS', 2000, 0, 600_000),
    },
    restoreSessions: read.bool('RESTORE_SESSIONS', true),
    webhook: read.webhook('WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_EVENTS'),
    webhookDelivery: {
      timeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 10_000, 100, 120_000),
      maxAttempts: read.int('WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
      retryBaseMs: read.int('WEBHOOK_RETRY_BASE_MS', 1000, 10, 600_000),
      allowPrivate: read.bool('WEBHOOK_ALLOW_PRIVATE', true),
    },
    keepRevokedBody: read.bool('KEEP_REVOKED_BODY', false),
    redis: read.redis('REDIS_URL', 'REDIS_PREFIX'),
    instance: {
      id: read.instanceId('INSTANCE_ID') ?? `${hostname()}-${process.pid}`,
      url: read.origin('INSTANCE_URL'),
      leaseTtlMs: read.int('SESSION_LEASE_TTL_MS', 30_000, 1000, 3_600_000),
    },
    media: {
      download: read.oneOf('MEDIA_DOWNLOAD', ['live', 'all', 'off'] as const, 'live'),
      concurrency: read.int('MEDIA_DOWNLOAD_CONCURRENCY', 2, 1, 64),
      store: read.mediaStore('MEDIA_STORE', ['S3_BUCKET', 'S3_ENDPOINT', 'S3_REGION', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE']),
      maxBytes: read.int('MEDIA_MAX_BYTES', 67_108_864, 1, 2_147_483_647),
      maxAttempts: read.int('MEDIA_MAX_ATTEMPTS', 5, 1, 100),
      retryBaseMs: read.int('MEDIA_RETRY_BASE_MS', 5000, 10, 3_600_000),
      leaseMs: read.int('MEDIA_LEASE_MS', 60_000, 1000, 3_600_000),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Reads typed values and collects every problem, so one boot reports all bad variables at once. */
class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  str(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.str(name);
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  /** `none`, `local:<folder>` or `remote:<url with {version}>`; unset means the library's local cache. */
  webCache(name: string): WebCacheSetting {
    const raw = this.str(name);
    if (raw === undefined) return { type: 'local', path: '.wwebjs_cache' };
    if (raw === 'none') return { type: 'none' };
    if (raw.startsWith('local:') && raw.length > 'local:'.length) return { type: 'local', path: raw.slice('local:'.length) };
    if (raw.startsWith('remote:') && /^https?:\/\//.test(raw.slice('remote:'.length))) {
      return { type: 'remote', remotePath: raw.slice('remote:'.length) };
    }
    this.problems.push(`${name} must be none, local:<folder> or remote:<http(s) URL> (got "${raw}")`);
    return { type: 'none' };
  }

  /** `true`, `false`, a hop count, or addresses and subnets (`loopback`, `10.0.0.0/8`, ...), comma-separated. */
  trustProxy(name: string): TrustProxySetting {
    const raw = this.str(name);
    if (raw === undefined || raw === 'false') return false;
    if (raw === 'true') return true;
    if (/^\d{1,3}$/.test(raw)) return Number(raw);
    const entries = raw.split(',').map((entry) => entry.trim());
    const valid = entries.every((entry) => {
      if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
      const [address, bits, ...rest] = entry.split('/');
      const version = isIP(address);
      if (version === 0 || rest.length > 0) return false;
      return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
    });
    if (valid) return entries.join(',');
    this.problems.push(`${name} must be true, false, a number of proxies, or addresses/subnets such as loopback,10.0.0.0/8 (got "${raw}")`);
    return false;
  }

  /** An http(s) URL that is an origin only (a trailing `/` is fine): its origin, as browsers write it. */
  origin(name: string): string | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    const origin = originOf(raw);
    if (origin === undefined) {
      this.problems.push(`${name} must be an http:// or https:// origin, such as https://wa.example.com or http://192.168.1.20:3000, with no path (got "${raw}")`);
    }
    return origin;
  }

  /** The global webhook: a URL (http(s), no credentials), an optional secret, optional events (comma-separated; default all). */
  webhook(urlName: string, secretName: string, eventsName: string): GlobalWebhookConfig | undefined {
    const url = this.str(urlName);
    const secret = this.str(secretName);
    const events = this.str(eventsName);
    if (url === undefined) {
      for (const name of [secretName, eventsName]) if (this.str(name) !== undefined) this.problems.push(`${name} is set but ${urlName} is not`);
      return undefined;
    }
    const urlProblem = webhookUrlProblem(url);
    if (urlProblem) this.problems.push(`${urlName} ${urlProblem} (got "${url}")`);
    if (secret !== undefined && secret.length > WEBHOOK_SECRET_MAX_LENGTH) this.problems.push(`${secretName} must be at most ${WEBHOOK_SECRET_MAX_LENGTH} characters`);
    const names = events === undefined ? [...WEBHOOK_EVENT_NAMES] : [...new Set(events.split(',').map((e) => e.trim()).filter((e) => e.length > 0))];
    const unknown = unknownWebhookEvents(names);
    if (unknown.length > 0 || names.length === 0) {
      this.problems.push(`${eventsName} must be a comma-separated list of ${WEBHOOK_EVENT_NAMES.join(', ')} (got "${events}")`);
    }
    return { url, secret, events: names as WebhookEventName[] };
  }

  redis(urlName: string, prefixName: string): RedisConfig | undefined {
    const prefix = this.str(prefixName) ?? 'wa-sync';
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) this.problems.push(`${prefixName} must be 1 to 64 of A-Z a-z 0-9 _ . : - (got "${prefix}")`);
    const url = this.url(urlName, ['redis:', 'rediss:']);
    return url === undefined ? undefined : { url, prefix };
  }

  /** A name safe in logs and headers: 1 to 128 of A-Z a-z 0-9 _ . : - */
  instanceId(name: string): string | undefined {
    const raw = this.str(name);
    if (raw !== undefined && !/^[A-Za-z0-9_.:-]{1,128}$/.test(raw)) {
      this.problems.push(`${name} must be 1 to 128 of A-Z a-z 0-9 _ . : - (got "${raw}")`);
      return undefined;
    }
    return raw;
  }

  /**
   * `postgres`, `fs:<folder>` (created now if missing, and checked writable) or `s3` (with
   * `S3_BUCKET`; the other `S3_*` variables are optional), so that a store that cannot work stops
   * start-up instead of failing every download.
   */
  mediaStore(name: string, s3Names: readonly [string, string, string, string, string, string]): MediaStoreSetting {
    const raw = this.str(name) ?? 'postgres';
    const [bucketName, endpointName, regionName, keyName, secretName, pathStyleName] = s3Names;
    const s3 = {
      bucket: this.str(bucketName),
      endpoint: this.url(endpointName, ['http:', 'https:']),
      region: this.str(regionName) ?? 'us-east-1',
      accessKeyId: this.str(keyName),
      secretAccessKey: this.str(secretName),
      forcePathStyle: this.bool(pathStyleName, false),
    };
    if (raw === 'postgres') return { type: 'postgres' };
    if (raw.startsWith('fs:') && raw.length > 'fs:'.length) {
      const folder = resolve(raw.slice('fs:'.length));
      const problem = unwritableFolder(folder);
      if (problem) this.problems.push(`${name} must name a folder the service can create and write to (got "${raw}": ${problem})`);
      return { type: 'fs', folder };
    }
    if (raw === 's3') {
      if (s3.bucket === undefined) this.problems.push(`${bucketName} is required with ${name}=s3`);
      else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3.bucket)) this.problems.push(`${bucketName} must be an S3 bucket name: 3-63 of a-z 0-9 . - (got "${s3.bucket}")`);
      if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) this.problems.push(`${keyName} and ${secretName} must be set together`);
      return { type: 's3', ...s3, bucket: s3.bucket ?? '' };
    }
    this.problems.push(`${name} must be postgres, fs:<folder> or s3 (got "${raw}")`);
    return { type: 'postgres' };
  }

  /** `*`, or a comma-separated list of http(s) origins, each written as browsers send it. */
  origins(name: string): string[] | '*' {
    const raw = this.str(name);
    if (raw === undefined || raw === '*') return '*';
    const entries = raw
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    const bad = entries.filter((entry) => originOf(entry) === undefined);
    if (bad.length > 0) {
      this.problems.push(
        `${name} must be * or a comma-separated list of http:// or https:// origins with no path, such as https://app.example.com,http://localhost:5173 (not origins: ${bad.map((entry) => `"${entry}"`).join(', ')})`,
      );
      return [];
    }
    return [...new Set(entries.map((entry) => originOf(entry)!))];
  }

  /**
   * The address to listen on: an IPv4 or IPv6 address, or a host name (letters, digits and hyphens
   * in dot-separated labels, not all-numeric at the end, so that `999.1.1.1` is no name).
   */
  host(name: string): string | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    if (isIP(raw) !== 0 || isHostName(raw)) return raw;
    this.problems.push(`${name} must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name such as localhost (got "${raw}")`);
    return undefined;
  }

  /**
   * `DATABASE_URL`, with `DATABASE_PASSWORD` (when set) as its password: the password may hold any
   * character, it is encoded into the URL here, so compose files need not paste it into a URL.
   */
  databaseUrl(name: string, passwordName: string): string | undefined {
    const url = this.url(name, ['postgres:', 'postgresql:']);
    const password = this.env[passwordName];
    if (password === undefined || password === '') return url;
    if (this.env[name] === undefined || this.env[name]!.trim() === '') {
      this.problems.push(`${passwordName} needs ${name} (the embedded PostgreSQL has its own password)`);
      return url;
    }
    if (url === undefined) return undefined;
    const parsed = new URL(url);
    parsed.password = encodeURIComponent(password);
    return parsed.toString();
  }

  /**
   * `demo`, or the path of an account file, read and checked now (only when the simulated provider is
   * chosen), so that a typo stops start-up before anything starts instead of once the database is up.
   */
  simulatedAccount(name: string, used: boolean): string | undefined {
    const raw = this.str(name);
    if (raw === undefined || raw === DEMO_ACCOUNT_NAME || !used) return raw;
    const problem = unreadableFile(raw) ?? invalidAccount(raw);
    if (problem) this.problems.push(`${name} must be ${DEMO_ACCOUNT_NAME} or the path of a readable account JSON file (got "${raw}": ${problem})`);
    return raw;
  }

  url(name: string, protocols: string[]): string | undefined {
    const raw = this.str(name);
    if (raw === undefined) return undefined;
    try {
      if (protocols.includes(new URL(raw).protocol)) return raw;
    } catch {
      // reported below
    }
    this.problems.push(`${name} must be a ${protocols.map((p) => p.replace(':', '://')).join(' or ')} URL`);
    return undefined;
  }
}

/** The origin of an http(s) URL that is an origin only (a trailing `/` is fine), as browsers write it. */
function originOf(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    const originOnly = url.username === '' && url.password === '' && url.pathname === '/' && !raw.includes('?') && !raw.includes('#');
    if ((url.protocol === 'http:' || url.protocol === 'https:') && originOnly) return url.origin;
  } catch {
    // not a URL
  }
  return undefined;
}

function isHostName(value: string): boolean {
  const labels = value.endsWith('.') ? value.slice(0, -1).split('.') : value.split('.');
  if (value.length > 253 || labels.some((label) => !/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** Why `path` cannot be read as a file, or `undefined` when it can. */
function unreadableFile(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (error as Error).message;
  }
}

/** Why `folder` cannot hold media (created if missing), or `undefined` when it can. */
function unwritableFolder(folder: string): string | undefined {
  try {
    mkdirSync(folder, { recursive: true });
    if (!statSync(folder).isDirectory()) return 'not a folder';
    accessSync(folder, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' ? 'not writable' : code === 'ENOTDIR' || code === 'EEXIST' ? 'not a folder' : (error as Error).message;
  }
}

/** What is wrong with the account file at `path` (JSON, shape), or `undefined`. */
function invalidAccount(path: string): string | undefined {
  try {
    parseAccountSpec(JSON.parse(readFileSync(path, 'utf8')), 'the file');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
