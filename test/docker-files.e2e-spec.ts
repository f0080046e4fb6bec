import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseEnv } from 'node:util';
import { AppConfig, loadConfig } from '../src/config/app-config';
import { YamlValue, parseSimpleYaml } from './support/simple-yaml';

/**
 * No Docker engine runs where the tests run, so the Dockerfile and docker-compose.yml are checked as
 * files: what the image's user may write, which variables reach the container, what is published.
 * Not checked: that the image builds, that Chromium starts in it, that compose starts both services.
 */
const ROOT = join(__dirname, '..');
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const COMPOSE = parseSimpleYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Record<string, YamlValue>;
const EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');

/**
 * Variables the compose file sets for the container whatever `.env` says, because a value meant for
 * `npm start` on the host would be wrong inside it: the address inside the container, the compose
 * database, and paths, which must stay under /data.
 */
const SET_FOR_THE_CONTAINER = [
  'HOST',
  'DATABASE_URL',
  'DATABASE_PASSWORD',
  'EMBEDDED_PG_DATA_DIR',
  'EMBEDDED_PG_PORT',
  'CHROME_PATH',
  'WWEBJS_DATA_DIR',
  'WWEBJS_WEB_CACHE',
];

interface Instruction {
  keyword: string;
  args: string;
}

/** The final stage's instructions, continuation lines joined. */
function finalStage(source: string): Instruction[] {
  const logical = source
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const instructions = logical.map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(lastFrom + 1);
}

function imageEnv(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.keyword === 'ENV')) {
    for (const [, key, value] of args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S*)/g)) env[key] = value.replace(/^"|"$/g, '');
  }
  return env;
}

/** Folders a `chown -R node...` of the final stage hands to the `node` user. */
function ownedByNode(stage: Instruction[]): string[] {
  return stage
    .filter((i) => i.keyword === 'RUN')
    .flatMap(({ args }) => [...args.matchAll(/chown\s+-R\s+node(?::node)?\s+([^&;|]+)/g)].flatMap(([, paths]) => paths.trim().split(/\s+/)));
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (whole, name?: string, colon?: string, kind?: string, word?: string) => {
    if (whole === '$$') return '$';
    const set = env[name!] !== undefined && (colon !== ':' || env[name!] !== '');
    if (set) return env[name!];
    if (kind === '?') throw new Error(`${name} is required: ${word}`);
    return word ?? '';
  });
}

const service = (name: string) => (COMPOSE.services as Record<string, Record<string, YamlValue>>)[name];
const composeEnv = service('whatsapp-sync').environment as Record<string, string>;

/** The container's environment under compose: the image's, overlaid by compose's, interpolated. */
function containerEnv(hostEnv: Record<string, string>): Record<string, string> {
  const env = { ...imageEnv(finalStage(DOCKERFILE)) };
  for (const [key, value] of Object.entries(composeEnv)) env[key] = interpolate(value, hostEnv);
  return env;
}

/** What the service writes to, by default, for this configuration. */
function pathsWritten(config: AppConfig): Record<string, string> {
  return {
    WWEBJS_DATA_DIR: config.wwebjs.dataDir,
    WWEBJS_WEB_CACHE: config.wwebjs.webCache.type === 'local' ? config.wwebjs.webCache.path : '(none)',
    EMBEDDED_PG_DATA_DIR: config.embeddedPgDataDir,
  };
}

function exampleVariables(): string[] {
  const lines = EXAMPLE.split('\n').filter((line) => /^(# )?[A-Z][A-Z0-9_]*=/.test(line));
  return Object.keys(parseEnv(lines.map((line) => line.replace(/^# /, '')).join('\n')));
}

describe('Dockerfile and docker-compose.yml', () => {
  const stage = finalStage(DOCKERFILE);
  const workdir = stage.filter((i) => i.keyword === 'WORKDIR').at(-1)!.args;

  it('the image runs as node, and every path the service writes by default is in a folder chowned to node', () => {
    expect(stage.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
    const owned = ownedByNode(stage);
    expect(owned.length).toBeGreaterThan(0);
    const outside = (env: Record<string, string>) =>
      Object.entries(pathsWritten(loadConfig(env)))
        .filter(([, path]) => path !== '(none)')
        .map(([name, path]) => [name, posix.resolve(workdir, path)])
        .filter(([, path]) => !owned.some((dir) => path === dir || path.startsWith(`${dir.replace(/\/$/, '')}/`)));
    // `docker run` of the image alone, and the service under compose.
    expect(outside(imageEnv(stage))).toEqual([]);
    expect(outside(containerEnv({ API_KEY: 'a-key' }))).toEqual([]);
    // The folders exist in the image before they are handed over (a volume mounted there keeps their owner).
    const run = stage.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' ');
    for (const path of Object.values(pathsWritten(loadConfig(imageEnv(stage)))).filter((p) => p !== '(none)')) {
      expect(run).toContain(posix.resolve(workdir, path));
    }
  });

  it('every variable of .env.example reaches the container: passed through, or set for it', () => {
    const variables = exampleVariables();
    expect(variables.length).toBeGreaterThan(30);
    const image = imageEnv(stage);
    expect(variables.filter((name) => !(name in composeEnv) && !(name in image))).toEqual([]);
    // What is not set for the container comes from the host's environment or .env, under its own name.
    const notPassed = variables.filter((name) => !SET_FOR_THE_CONTAINER.includes(name) && !new RegExp(`^\\$\\{${name}(:?[-?][^}]*)?\\}$`).test(composeEnv[name] ?? ''));
    expect(notPassed).toEqual([]);
    // And what is set for the container does not depend on .env (but the password, below).
    const fromHost = SET_FOR_THE_CONTAINER.filter((name) => name !== 'DATABASE_PASSWORD' && /\$\{/.test(composeEnv[name] ?? ''));
    expect(fromHost).toEqual([]);
    // Values meant for the host (a relative path, 127.0.0.1) cannot reach the container.
    const hostEnv = { API_KEY: 'k', HOST: '127.0.0.1', WWEBJS_DATA_DIR: '.data/wwebjs', WWEBJS_WEB_CACHE: 'local:.wwebjs_cache', EMBEDDED_PG_DATA_DIR: '.data/postgres' };
    expect(containerEnv(hostEnv)).toMatchObject({ HOST: '0.0.0.0', WWEBJS_DATA_DIR: '/data/wwebjs', WWEBJS_WEB_CACHE: 'local:/data/wwebjs-cache', EMBEDDED_PG_DATA_DIR: '/data/postgres' });
  });

  it('with compose defaults the container gets a valid configuration on the compose database', () => {
    const config = loadConfig(containerEnv({ API_KEY: 'a-key' }));
    expect(config).toMatchObject({ host: '0.0.0.0', port: 3000, apiKey: 'a-key', databaseUrl: 'postgres://whatsapp:whatsapp@postgres:5432/whatsapp', logFormat: 'json' });
    expect(loadConfig(containerEnv({ API_KEY: 'a-key', PORT: '8080', WA_PROVIDER: 'simulated', SIMULATED_ACCOUNT: 'demo' }))).toMatchObject({ port: 8080, waProvider: 'simulated', simulatedAccountPath: 'demo' });
  });

  it('the port is published on 127.0.0.1 by default, on the port the service listens on inside', () => {
    const ports = (service('whatsapp-sync').ports as string[]).map((entry) => interpolate(entry, {}));
    expect(ports).toEqual(['127.0.0.1:3000:3000']);
    expect((service('whatsapp-sync').ports as string[]).map((entry) => interpolate(entry, { PORT: '8080' }))).toEqual(['127.0.0.1:8080:8080']);
    expect(interpolate(composeEnv.PORT, { PORT: '8080' })).toBe('8080');
  });

  it('API_KEY is required, and the database password is never pasted into a URL', () => {
    expect(() => containerEnv({})).toThrow(/^API_KEY is required: set API_KEY in \.env/);
    expect(composeEnv.DATABASE_URL).not.toMatch(/\$/);
    expect(new URL(composeEnv.DATABASE_URL).password).toBe('');
    expect(composeEnv.DATABASE_PASSWORD).toBe((service('postgres').environment as Record<string, string>).POSTGRES_PASSWORD);
    const password = 'p@ss:w/rd #%?';
    const url = loadConfig(containerEnv({ API_KEY: 'k', POSTGRES_PASSWORD: password })).databaseUrl!;
    expect(decodeURIComponent(new URL(url).password)).toBe(password);
  });
});
