import { Client } from 'pg';
import { errorText } from '../common/error-text';
import { logClientErrors } from './pg-client-errors';

export interface WaitForDatabaseOptions {
  attempts: number;
  delayMs: number;
  /** Time limit of each connection attempt. */
  connectTimeoutMs: number;
  log: (line: string) => void;
  /** How to wait between attempts (tests pass their own). */
  sleep?: (ms: number) => Promise<void>;
}

/** 30 s in all, as long as TypeORM's own retries took, but one plain line per attempt. */
export const DATABASE_WAIT: Omit<WaitForDatabaseOptions, 'log'> = { attempts: 10, delayMs: 3000, connectTimeoutMs: 5000 };

/**
 * SQLSTATEs that waiting does not cure: a wrong password or user, a database that does not exist,
 * a refused permission. PostgreSQL that is still starting (57P03) or a connection refused are waited for.
 */
const PERMANENT = new Set(['28P01', '28000', '3D000', '42501', '3F000']);

/**
 * Connects to `DATABASE_URL` before the app is built: while the database is not reachable (a
 * container that starts before its database, a restart), one line an attempt says so, naming the
 * host and port only (never the password). It gives up after `attempts`, or at once on an error that
 * waiting cannot cure, with an error that names DATABASE_URL.
 */
export async function waitForDatabase(url: string, options: WaitForDatabaseOptions): Promise<void> {
  const where = addressOf(url);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: options.connectTimeoutMs });
    logClientErrors(client, 'the database probe connection');
    try {
      await client.connect();
      await client.end();
      if (attempt > 1) options.log(`the database at ${where} answers`);
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      const reason = reasonOf(error);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && PERMANENT.has(code)) {
        throw new Error(`The database at ${where} refused the connection: ${reason}. Check DATABASE_URL.`);
      }
      if (attempt >= options.attempts) {
        throw new Error(`The database at ${where} did not answer after ${attempt} attempts (${reason}). Check DATABASE_URL, or start the database first.`);
      }
      options.log(`waiting for the database at ${where} (attempt ${attempt} of ${options.attempts}: ${reason}); next attempt in ${options.delayMs / 1000} s`);
      await sleep(options.delayMs);
    }
  }
}

/** `host:port` of a PostgreSQL URL: what a log may say of it. */
export function addressOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
}

/** A short reason: an error code, or the message (node's AggregateError of several addresses has none). */
function reasonOf(error: unknown): string {
  const { code, errors } = error as { code?: unknown; errors?: unknown };
  const message = errorText(error);
  if (message) return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  if (Array.isArray(errors) && errors.length > 0) return reasonOf(errors[0]);
  return typeof code === 'string' ? code : 'no answer';
}
