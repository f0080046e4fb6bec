import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig } from './app-config';

/**
 * `.env.example` and README's Configuration table document every variable the config loader reads,
 * and `.env.example` tells the truth: its values are the defaults, its commented examples are valid.
 */
const ROOT = join(__dirname, '..', '..');
const LOADER = readFileSync(join(__dirname, 'app-config.ts'), 'utf8');
const EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The names the loader's source reads: arguments of `read.<kind>(...)` and `env.NAME` / `env['NAME']`. */
function namesInSource(source: string): Set<string> {
  const names = new Set<string>();
  for (const [, args] of source.matchAll(/\bread\.\w+\(([^)]*)\)/g)) {
    for (const [, name] of args.matchAll(/'([A-Z][A-Z0-9_]*)'/g)) names.add(name);
  }
  for (const [, dotted, quoted] of source.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*'([A-Z][A-Z0-9_]*)'\s*\])/g)) names.add(dotted ?? quoted);
  return names;
}

/** The names `loadConfig` really asks its environment for. */
function namesRead(): Set<string> {
  const names = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  loadConfig(env);
  return names;
}

/** `NAME=value` lines, set or commented out (`# NAME=value`). */
function exampleLines(commented: boolean): Record<string, string | undefined> {
  const prefix = commented ? '# ' : '';
  const lines = EXAMPLE.split('\n').filter((line) => new RegExp(`^${prefix}[A-Z][A-Z0-9_]*=`).test(line));
  return parseEnv(lines.map((line) => line.slice(prefix.length)).join('\n'));
}

function configurationSection(): string {
  const start = README.indexOf('\n## Configuration\n');
  const end = README.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  return README.slice(start, end);
}

describe('documented variables', () => {
  const variables = [...namesInSource(LOADER)].sort();

  it('the source parse finds exactly the variables loadConfig reads', () => {
    expect(variables).toEqual([...namesRead()].sort());
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'DATABASE_PASSWORD', 'CHROME_PATH', 'RESTORE_SESSIONS', 'WA_AUTH_STORE', 'WWEBJS_WEB_CACHE']));
  });

  it('.env.example lists every variable, each once, with a comment line above it', () => {
    const lines = EXAMPLE.split('\n');
    const missing = variables.filter((name) => lines.filter((line) => new RegExp(`^(# )?${name}=`).test(line)).length !== 1);
    expect(missing).toEqual([]);
    const uncommented = variables.filter((name) => {
      const index = lines.findIndex((line) => new RegExp(`^(# )?${name}=`).test(line));
      return !/^# (?![A-Z][A-Z0-9_]*=)/.test(lines[index - 1] ?? '');
    });
    expect(uncommented).toEqual([]);
    const unknown = Object.keys({ ...exampleLines(false), ...exampleLines(true) }).filter((name) => !variables.includes(name));
    expect(unknown).toEqual([]);
  });

  it('README documents every variable in its Configuration section', () => {
    const section = configurationSection();
    expect(variables.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  });

  it('the values .env.example sets are the defaults', () => {
    expect(loadConfig(exampleLines(false))).toEqual(loadConfig({}));
  });

  it('its commented-out examples are valid values, and the example account file exists', () => {
    const examples = exampleLines(true);
    expect(Object.keys(examples).sort()).toEqual(
      ['API_KEY', 'METRICS_TOKEN', 'WEBHOOK_URL', 'WEBHOOK_SECRET', 'WEBHOOK_EVENTS', 'CHROME_PATH', 'DATABASE_PASSWORD', 'DATABASE_URL', 'PUBLIC_URL', 'REDIS_URL', 'INSTANCE_ID', 'INSTANCE_URL', 'SIMULATED_ACCOUNT', 'WWEBJS_WEB_VERSION', 'S3_BUCKET', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].sort(),
    );
    const previous = process.cwd();
    // The example path is relative to the folder the service starts from: the project folder.
    process.chdir(ROOT);
    try {
      const config = loadConfig({ ...exampleLines(false), ...examples, WA_PROVIDER: 'simulated' });
      expect(config.simulatedAccountPath).toBe('./examples/account.json');
    } finally {
      process.chdir(previous);
    }
  });
});
