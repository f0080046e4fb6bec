import { Logger as NestLogger } from '@nestjs/common';
import type { LoggerOptions, Logger as TypeOrmLogger } from 'typeorm';

/** A statement slower than this is logged as a warning. */
export const SLOW_QUERY_MS = 5000;

/** A TypeORM logger that says which of TypeORM's levels it wants: each logged statement costs a call. */
export interface LevelledTypeOrmLogger extends TypeOrmLogger {
  readonly levels: LoggerOptions;
}

/**
 * TypeORM's logger for the app: failed and slow (over `SLOW_QUERY_MS`) statements, warnings and
 * migrations go to Nest's logger (context `SQL`); statements themselves are not asked for. `createApp`'s `typeormLogger`
 * option replaces it (tests record statements with a subclass).
 */
export class NestTypeOrmLogger implements LevelledTypeOrmLogger {
  readonly levels: LoggerOptions = ['error', 'warn', 'migration'];
  private readonly logger = new NestLogger('SQL');

  logQuery(_query: string): void {}

  logQueryError(error: string | Error, query: string): void {
    this.logger.error(`${error instanceof Error ? error.message : error} in: ${query.slice(0, 200)}`);
  }

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`slow query (${time} ms): ${query.slice(0, 200)}`);
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}
