import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AppConfig, loadConfig } from './config/app-config';
import { EmbeddedDatabase, ensureDatabase, startEmbeddedPostgres } from './database/embedded-postgres';

const EMBEDDED_DATABASE_NAME = 'whatsapp';
const SHUTDOWN_TIMEOUT_MS = 15_000;

/**
 * Starts the service: validated config, then the database (the configured one, or an embedded
 * PostgreSQL when `DATABASE_URL` is unset), then the app. SIGINT/SIGTERM close the app and stop
 * the embedded server, within a bounded time.
 */
async function bootstrap(): Promise<void> {
  const logger = new Logger('Bootstrap');
  const config = loadConfig();
  let embedded: EmbeddedDatabase | undefined;
  let resolved: AppConfig = config;
  if (!config.databaseUrl) {
    logger.log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${config.embeddedPgDataDir}, port ${config.embeddedPgPort})`);
    embedded = await startEmbeddedPostgres({ dataDir: config.embeddedPgDataDir, port: config.embeddedPgPort });
    await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE_NAME);
    resolved = { ...config, databaseUrl: embedded.urlOf(EMBEDDED_DATABASE_NAME) };
  }

  const app = await createApp(resolved).catch(async (error: unknown) => {
    await embedded?.stop();
    throw error;
  });
  await app.listen(resolved.port, resolved.host);
  logger.log(`listening on http://${resolved.host === '0.0.0.0' ? 'localhost' : resolved.host}:${resolved.port} (WhatsApp provider: ${resolved.waProvider})`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received, shutting down`);
    const forced = setTimeout(() => {
      logger.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    forced.unref();
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
}

bootstrap().catch((error: unknown) => {
  // A bad configuration or an unreachable database: one clear line, no stack for the expected cases.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
