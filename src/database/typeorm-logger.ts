import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's logger for the app: failed and slow statements, warnings and migrations go to Nest's
 * logger (context `SQL`); the statements themselves are not logged. `createApp`'s `typeormLogger`
 * option replaces it (tests record statements with a subclass).
 */
export class NestTypeOrmLogger implements TypeOrmLogger {
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
