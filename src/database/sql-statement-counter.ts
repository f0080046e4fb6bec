import { Injectable, Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's logger for the app: records the SQL statements sent once asked to (tests prove the
 * sync's fast path with it; otherwise it costs nothing) and sends errors and warnings to Nest's logger.
 */
@Injectable()
export class SqlStatementCounter implements TypeOrmLogger {
  private readonly logger = new NestLogger('SQL');
  /** The statements since `startRecording`, when recording (tests only). */
  recorded: string[] | undefined;

  startRecording(): void {
    this.recorded = [];
  }

  logQuery(query: string): void {
    this.recorded?.push(query);
  }

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
