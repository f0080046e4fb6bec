import { EntityManager, QueryFailedError } from 'typeorm';

/** What this needs of the connection `QueryRunner.connect()` answers with PostgreSQL: a pg `Client`. */
interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `sql` as a named prepared statement on the connection of `manager` (its transaction's when it
 * has one): PostgreSQL parses and plans it once per connection instead of once per call. For the
 * message upsert, a CTE of five parts, that planning was about half of the database's CPU per chat.
 * TypeORM's `query` has no way to name a statement, so this goes through the driver connection that
 * `QueryRunner.connect()` hands out, logged and failing as TypeORM's own queries do.
 * `name` must always come with the same `sql`.
 */
export async function preparedQuery<T>(manager: EntityManager, name: string, sql: string, params: unknown[]): Promise<T[]> {
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  const logger = manager.connection.logger;
  try {
    const connection = (await runner.connect()) as PgConnection;
    logger.logQuery(sql, params, runner);
    try {
      return (await connection.query({ name, text: sql, values: params })).rows as T[];
    } catch (error) {
      logger.logQueryError(error as Error, sql, params, runner);
      throw new QueryFailedError(sql, params, error as Error);
    }
  } finally {
    if (runner !== manager.queryRunner) await runner.release();
  }
}
