import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AppConfig, loadConfig } from './config/app-config';
import { EmbeddedDatabase, ensureDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { DATABASE_WAIT, waitForDatabase } from './database/wait-for-database';

const EMBEDDED_DATABASE_NAME = 'whatsapp';
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * Starts the service: validated config, then the database (the configured one, waited for while it
 * does not answer, or an embedded PostgreSQL when `DATABASE_URL` is unset), then the app.
 * SIGINT/SIGTERM close the app and stop the embedded server, within a bounded time.
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
  let resolved: AppConfig = config;
  if (!config.databaseUrl) {
    logger.log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${config.embeddedPgDataDir}, port ${config.embeddedPgPort})`);
    embedded = await startEmbeddedPostgres({ dataDir: config.embeddedPgDataDir, port: config.embeddedPgPort });
    await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE_NAME);
    resolved = { ...config, databaseUrl: embedded.urlOf(EMBEDDED_DATABASE_NAME) };
  } else {
    await waitForDatabase(config.databaseUrl, { ...DATABASE_WAIT, log: (line) => logger.warn(line) });
  }

  const app = await createApp(resolved).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  await app.listen(resolved.port, resolved.host).catch(async (error: unknown) => {
    await app.close().catch(() => undefined);
    await embedded?.stop();
    throw new Error(`Cannot listen on ${resolved.host} port ${resolved.port} (HOST, PORT): ${(error as Error).message}`);
  });
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${resolved.host === '0.0.0.0' ? 'localhost' : resolved.host}:${address.port}`;
  logger.log(`listening on ${url} (WhatsApp provider: ${resolved.waProvider})`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    // Not unref'd: if closing hangs, this is what ends the process.
    setTimeout(() => {
      logger.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    app
      .close()
      .then(() => embedded?.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`shutdown failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return url;
}
