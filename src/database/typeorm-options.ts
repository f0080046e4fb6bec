import { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/**
 * The one place that says how we talk to PostgreSQL: entities, committed migrations (run at start,
 * in one transaction, under TypeORM's lock), never `synchronize`.
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
    extra: { max: poolSize, connectionTimeoutMillis: 10_000 },
  };
}
