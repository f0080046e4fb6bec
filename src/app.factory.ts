import type { Server } from 'node:http';
import { join } from 'node:path';
import { ConsoleLogger, INestApplication, LogLevel, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, AppModuleOptions } from './app.module';
import { AllExceptionsFilter } from './transport/all-exceptions.filter';
import { AppLogger } from './common/app-logger';
import { answerClientErrorsAsJson } from './transport/client-errors';
import { AppExpressAdapter, missingHostAnswer } from './transport/express-adapter';
import { OriginPolicy } from './transport/origin-policy';
import { securityHeaders } from './transport/security-headers';
import { SocketIoAdapter } from './transport/socket-io.adapter';
import { SocketWritePacer } from './transport/socket-write-pacer';
import { createValidationPipe } from './transport/validation.pipe';
import { setupOpenApi } from './transport/openapi';
import { AppConfig, LOG_LEVELS } from './config/app-config';
import { OwnerForwarding } from './instances/owner-forwarding';

/** `public/` beside `src/` and `dist/`. */
const PUBLIC_DIR = join(__dirname, '..', 'public');

/** Test doubles (a client factory, a TypeORM logger) and a silent app, for tests and benchmarks. */
export interface CreateAppOptions extends AppModuleOptions {
  logger?: false;
}

/** Builds the application exactly as `main.ts` runs it; tests and benchmarks use the same path. */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<INestApplication> {
  // Case-sensitive routes, and a JSON 400 for a request without Host (see AppExpressAdapter).
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), new AppExpressAdapter(), {
    logger: options.logger === false ? false : createLogger(config),
    // Connections still open after the drain (see HttpDrain) are closed, so shutdown is bounded.
    forceCloseConnections: true,
  });
  // The client IP that rate limits count: the socket's, or the one a trusted proxy forwards.
  app.set('trust proxy', config.trustProxy);
  // First, so that every answer has them, errors of the body parser included.
  app.use(securityHeaders());
  app.use(missingHostAnswer());
  app.useBodyParser('json', { limit: '100kb' });
  // The dashboard: static files, outside the API key guard (the page asks for the key itself).
  app.useStaticAssets(PUBLIC_DIR, { index: 'index.html' });
  // Browser requests that pages of other sites made (or pages of a name rebound to this address):
  // refused on REST here and on the Socket.IO handshake by the adapter. Own origins come from
  // PUBLIC_URL and the listening socket, never from the request.
  const server = app.getHttpServer() as Server;
  const originPolicy = new OriginPolicy(config, () => server.address());
  app.use(originPolicy.middleware());
  // A call about a session another instance runs is carried out there (see OwnerForwarding).
  app.use(app.get(OwnerForwarding).middleware());
  app.enableCors({ origin: config.corsOrigins === '*' ? true : config.corsOrigins });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useWebSocketAdapter(new SocketIoAdapter(app, config, originPolicy, app.get(SocketWritePacer)));
  setupOpenApi(app);
  answerClientErrorsAsJson(app.getHttpServer());
  if (!config.apiKey) new Logger('Security').warn('API_KEY is not set: the REST API and Socket.IO are open to anyone who can reach them');
  return app;
}

function createLogger(config: AppConfig): ConsoleLogger {
  const levels = LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(config.logLevel) + 1) as LogLevel[];
  return new AppLogger({ json: config.logFormat === 'json', logLevels: levels, colors: config.logFormat === 'pretty' });
}
