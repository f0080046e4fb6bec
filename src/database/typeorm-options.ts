import type { ClientBase } from 'pg';
import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { logClientErrors } from './pg-client-errors';
import { LevelledTypeOrmLogger, SLOW_QUERY_MS } from './typeorm-logger';

/**
 * The one place that says how we talk to PostgreSQL: entities, committed migrations (run at start,
 * in one transaction, under TypeORM's lock), never `synchronize`. Every client the pool opens has an
 * 'error' listener from the moment it is connected (see `logClientErrors`).
 */
export function typeOrmOptions(url: string, poolSize: number, logger?: LevelledTypeOrmLogger): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: logger?.levels ?? ['error'],
    logger,
    maxQueryExecutionTime: SLOW_QUERY_MS,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      // pg-pool's hook, called as soon as a new client is connected, before it is handed out.
      onConnect: (client: ClientBase) => logClientErrors(client, 'a pooled database connection'),
    },
  };
}
