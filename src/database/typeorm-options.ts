import type { ClientBase } from 'pg';
import { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { logClientErrors } from './pg-client-errors';

/**
 * The one place that says how we talk to PostgreSQL: entities, committed migrations (run at start,
 * in one transaction, under TypeORM's lock), never `synchronize`. Every client the pool opens has an
 * 'error' listener from the moment it is connected (see `logClientErrors`).
 */
export function typeOrmOptions(url: string, poolSize: number, logger?: TypeOrmLogger): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: logger ? ['query', 'error', 'warn', 'migration'] : ['error'],
    logger,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      // pg-pool's hook, called as soon as a new client is connected, before it is handed out.
      onConnect: (client: ClientBase) => logClientErrors(client, 'a pooled database connection'),
    },
  };
}
