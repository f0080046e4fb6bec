import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './app-config';

const dir = mkdtempSync(join(tmpdir(), 'wa-media-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, ''));
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('media configuration', () => {
  it('reads every media variable', () => {
    const config = loadConfig({
      MEDIA_DOWNLOAD: 'all',
      MEDIA_DOWNLOAD_CONCURRENCY: '8',
      MEDIA_MAX_BYTES: '1048576',
      MEDIA_MAX_ATTEMPTS: '3',
      MEDIA_RETRY_BASE_MS: '100',
      MEDIA_LEASE_MS: '5000',
      MEDIA_STORE: 's3',
      S3_BUCKET: 'wa-media',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_REGION: 'eu-west-1',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(config.media).toEqual({
      download: 'all',
      concurrency: 8,
      maxBytes: 1_048_576,
      maxAttempts: 3,
      retryBaseMs: 100,
      leaseMs: 5000,
      store: { type: 's3', bucket: 'wa-media', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', accessKeyId: 'key', secretAccessKey: 'secret', forcePathStyle: true },
    });
  });

  it('creates the folder of MEDIA_STORE=fs:<folder> and keeps its absolute path', () => {
    const folder = join(dir, 'a', 'b');
    expect(loadConfig({ MEDIA_STORE: `fs:${folder}` }).media.store).toEqual({ type: 'fs', folder });
    expect(statSync(folder).isDirectory()).toBe(true);
  });

  it('stops start-up naming MEDIA_STORE when its folder cannot be created or is a file', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(problems({ MEDIA_STORE: `fs:${file}/media` })).toEqual([`MEDIA_STORE must name a folder the service can create and write to (got "fs:${file}/media": not a folder)`]);
    expect(problems({ MEDIA_STORE: `fs:${file}` })).toEqual([`MEDIA_STORE must name a folder the service can create and write to (got "fs:${file}": not a folder)`]);
  });

  it('stops start-up naming MEDIA_STORE when its folder is not writable (as a user that permissions bind)', () => {
    if (process.getuid?.() === 0) return; // root writes anywhere: the case above covers a folder that cannot be used
    const locked = join(dir, 'locked');
    writeFileSync(join(dir, 'placeholder'), '');
    rmSync(locked, { force: true, recursive: true });
    require('node:fs').mkdirSync(locked);
    chmodSync(locked, 0o500);
    expect(problems({ MEDIA_STORE: `fs:${locked}` })[0]).toContain('not writable');
  });

  it('stops start-up naming S3_BUCKET when MEDIA_STORE=s3 has none, and names other bad S3 settings', () => {
    expect(problems({ MEDIA_STORE: 's3' })).toEqual(['S3_BUCKET is required with MEDIA_STORE=s3']);
    expect(problems({ MEDIA_STORE: 's3', S3_BUCKET: 'Bad_Bucket' })).toEqual(['S3_BUCKET must be an S3 bucket name: 3-63 of a-z 0-9 . - (got "Bad_Bucket")']);
    expect(problems({ MEDIA_STORE: 's3', S3_BUCKET: 'b12', S3_ACCESS_KEY_ID: 'k' })).toEqual(['S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together']);
    expect(problems({ MEDIA_STORE: 's3', S3_BUCKET: 'b12', S3_ENDPOINT: 'ftp://x' })).toEqual(['S3_ENDPOINT must be a http:// or https:// URL']);
  });

  it.each([
    ['MEDIA_STORE', 'disk'],
    ['MEDIA_STORE', 'fs:'],
    ['MEDIA_DOWNLOAD', 'yes'],
    ['MEDIA_DOWNLOAD_CONCURRENCY', '0'],
    ['MEDIA_DOWNLOAD_CONCURRENCY', '65'],
    ['MEDIA_MAX_BYTES', '0'],
    ['MEDIA_MAX_ATTEMPTS', '0'],
    ['MEDIA_RETRY_BASE_MS', '9'],
    ['MEDIA_LEASE_MS', '999'],
  ])('rejects %s=%s and names it', (name, value) => {
    const lines = problems({ [name]: value });
    expect(lines).toHaveLength(1);
    expect(lines[0].startsWith(`${name} must be `)).toBe(true);
  });
});
