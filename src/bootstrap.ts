import { existsSync } from 'node:fs';
import { INestApplication, Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AppConfig, loadConfig } from './config/app-config';
import { EmbeddedDatabase, ensureDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { DATABASE_WAIT, waitForDatabase } from './database/wait-for-database';
import { SessionLeaseService } from './instances/session-lease.service';
import { advertisedAddress } from './instances/advertised-address';

const EMBEDDED_DATABASE_NAME = 'whatsapp';
const SHUTDOWN_TIMEOUT_MS = 15_000;

/** A signal came while the service was starting: what had started is stopped, and the process exits 0. */
class StartupStopped extends Error {}

/**
 * Starts the service: validated config, then the database (the configured one, waited for while it
 * does not answer, or an embedded PostgreSQL when `DATABASE_URL` is unset), then the app.
 * SIGINT/SIGTERM close the app and stop the embedded server, within a bounded time, from the moment
 * the config is read: a signal during the start-up stops it after its current step (the embedded
 * server's start, the app's migrations), so that no PostgreSQL is left running.
 */
export async function bootstrap(): Promise<string> {
  const logger = new Logger('Bootstrap');
  // A `.env` in the working directory fills in what the environment does not set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  // A floating promise in a library (whatsapp-web.js has some) must not end every session at once.
  process.on('unhandledRejection', (reason) => {
    logger.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`);
  });
  let embedded: EmbeddedDatabase | undefined;
  let app: INestApplication | undefined;
  let started = false;
  let signalled: (() => void) | undefined;
  const signal = new Promise<void>((resolve) => (signalled = resolve));
  let stopping = false;

  const stopAll = async (): Promise<void> => {
    await app?.close();
    await embedded?.stop();
  };
  const exitAfter = (work: Promise<void>): void => {
    work.then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(`shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  const shutdown = (name: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${name} received, shutting down`);
    // Not unref'd: if closing hangs, this is what ends the process.
    setTimeout(() => {
      logger.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    signalled?.();
    // While starting, the start-up stops itself after its current step (see `step`).
    if (started) exitAfter(stopAll());
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  /** Awaits one step of the start-up, then gives way to a signal that came meanwhile. */
  const step = async <T>(work: Promise<T>): Promise<T> => {
    const value = await work;
    if (stopping) throw new StartupStopped();
    return value;
  };

  try {
    let resolved: AppConfig = config;
    if (!config.databaseUrl) {
      logger.log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${config.embeddedPgDataDir}, port ${config.embeddedPgPort})`);
      embedded = await startEmbeddedPostgres({ dataDir: config.embeddedPgDataDir, port: config.embeddedPgPort });
      await step(ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE_NAME));
      resolved = { ...config, databaseUrl: embedded.urlOf(EMBEDDED_DATABASE_NAME) };
    } else {
      // Nothing runs yet: a signal ends the wait at once.
      await step(Promise.race([waitForDatabase(config.databaseUrl, { ...DATABASE_WAIT, log: (line) => logger.warn(line) }), signal]));
    }
    app = await createApp(resolved);
    if (stopping) throw new StartupStopped();
    await app.listen(resolved.port, resolved.host).catch((error: unknown) => {
      throw new Error(`Cannot listen on ${resolved.host} port ${resolved.port} (HOST, PORT): ${(error as Error).message}`);
    });
    const address = app.getHttpServer().address() as { port: number };
    const url = `http://${resolved.host === '0.0.0.0' ? 'localhost' : resolved.host}:${address.port}`;
    logger.log(`listening on ${url} (WhatsApp provider: ${resolved.waProvider})`);
    // The address the other instances send this one's calls to, unless INSTANCE_URL names it.
    app.get(SessionLeaseService).setAddress(advertisedAddress(resolved.host, address.port));
    started = true;
    if (stopping) exitAfter(stopAll());
    return url;
  } catch (error) {
    if (error instanceof StartupStopped) {
      exitAfter(stopAll());
      return new Promise<never>(() => undefined);
    }
    await app?.close().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
    throw error;
  }
}
